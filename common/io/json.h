// JSON files through nlohmann-json (the summary and ready files): this is
// the adapter where the library's exceptions become Status values.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/base/status.h"
#include "common/io/file.h"

namespace anchorage::io {

// A JSON value whose objects keep their keys in insertion order.
using Json = nlohmann::ordered_json;

// Writes `json` to `path` atomically (WriteFileAtomically), indented by two
// spaces with one `"key": value` per line and a final newline. A number
// that is not finite is written as null; bytes of a string that are not
// UTF-8 are replaced by U+FFFD. `durability` as for WriteFileAtomically.
// Returns Unavailable when the file cannot be written.
Status WriteJsonFile(const std::string& path, const Json& json,
                     Durability durability = Durability::kDurable);

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
