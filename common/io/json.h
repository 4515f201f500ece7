// A small writer for flat JSON objects (the summary and ready files) and
// atomic file replacement, so a reader polling the file never sees half of
// it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace anchorage::io {

// Builds one JSON object; keys are written in insertion order.
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonObject& Add(std::string_view key, double value);
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonObject& Add(std::string_view key, uint64_t value);
  JsonObject& Add(std::string_view key, bool value);
  // Adds raw JSON (an array or object built elsewhere).
  JsonObject& AddRaw(std::string_view key, std::string_view json);

  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Returns `text` as a quoted JSON string.
std::string JsonQuote(std::string_view text);

// Writes `contents` to `path` through a temporary file and rename.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace anchorage::io
