// Minimal logging to stderr: one line per call, prefixed with the wall time
// and the process's role ("server", "worker 3"). Thread-safe: each line is
// written with a single fprintf.
#pragma once

#include <string_view>

#include "common/base/enum_names.h"

namespace anchorage {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

inline constexpr EnumName<LogLevel> kLogLevelNames[] = {
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarning, "warning"},
    {LogLevel::kError, "error"},
};

// Sets the role printed on every line and the lowest level printed.
void SetLogRole(std::string_view role);
void SetLogLevel(LogLevel level);

// printf-style; a newline is appended.
void Log(LogLevel level, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

}  // namespace anchorage

#define LOG_INFO(...) \
  ::anchorage::Log(::anchorage::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARNING(...) \
  ::anchorage::Log(::anchorage::LogLevel::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) \
  ::anchorage::Log(::anchorage::LogLevel::kError, __VA_ARGS__)
#define LOG_DEBUG(...) \
  ::anchorage::Log(::anchorage::LogLevel::kDebug, __VA_ARGS__)
