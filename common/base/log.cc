#include "common/base/log.h"

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace anchorage {
namespace {

std::mutex& RoleMutex() {
  static std::mutex mutex;
  return mutex;
}

std::string& Role() {
  static std::string role = "anchorage";
  return role;
}

std::atomic<int>& MinLevel() {
  static std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
  return level;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "D";
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}

}  // namespace

void SetLogRole(std::string_view role) {
  const std::lock_guard<std::mutex> lock(RoleMutex());
  Role() = role;
}

void SetLogLevel(LogLevel level) {
  MinLevel() = static_cast<int>(level);
}

void Log(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) < MinLevel()) return;
  char text[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof(text), format, args);
  va_end(args);

  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          now.time_since_epoch())
                          .count() %
                      1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char stamp[16];
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", &local);

  std::string role;
  {
    const std::lock_guard<std::mutex> lock(RoleMutex());
    role = Role();
  }
  std::fprintf(stderr, "%s %s.%03d [%s] %s\n", LevelName(level), stamp,
               static_cast<int>(millis), role.c_str(), text);
}

}  // namespace anchorage
