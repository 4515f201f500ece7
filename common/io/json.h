// A small writer for flat JSON objects (the summary and ready files) and
// atomic file replacement, so a reader polling the file never sees half of
// it.
//
// JSON files through nlohmann-json: this is the adapter where the
// library's exceptions become Status values.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

// A JSON value whose objects keep their keys in insertion order.
using Json = nlohmann::ordered_json;

// Writes `json` to `path` atomically (WriteFileAtomically), indented by two
// spaces with one `"key": value` per line and a final newline. A number
// that is not finite is written as null; bytes of a string that are not
// UTF-8 are replaced by U+FFFD. Returns Unavailable when the file cannot be
// written.
Status WriteJsonFile(const std::string& path, const Json& json);

// Reads the JSON document at `path` and converts it to T with nlohmann's
// from_json. Returns DataLoss naming `path` and the problem: a file that
// cannot be opened, text that is not JSON, or a conversion that fails (a
// missing key, or a value of the wrong type, named by its JSON pointer).
template <typename T>
StatusOr<T> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::DataLoss("cannot open " + path);
  try {
    return Json::parse(in).get<T>();
  } catch (const Json::exception& e) {
    return Status::DataLoss(path + ": " + e.what());
  }
}

}  // namespace anchorage::io
