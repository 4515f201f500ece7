#include "common/io/json.h"

#include <cmath>
#include <cstdio>
#include <fstream>

namespace anchorage::io {

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

JsonObject& JsonObject::Add(std::string_view key, std::string_view value) {
  fields_.emplace_back(std::string(key), JsonQuote(value));
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, double value) {
  if (!std::isfinite(value)) {
    fields_.emplace_back(std::string(key), "null");
    return *this;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.10g", value);
  fields_.emplace_back(std::string(key), text);
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, int64_t value) {
  fields_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, uint64_t value) {
  fields_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

JsonObject& JsonObject::AddRaw(std::string_view key, std::string_view json) {
  fields_.emplace_back(std::string(key), std::string(json));
  return *this;
}

std::string JsonObject::ToString() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    out += i == 0 ? "\n  " : ",\n  ";
    out += JsonQuote(fields_[i].first) + ": " + fields_[i].second;
  }
  out += "\n}\n";
  return out;
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write " + temporary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) return Status::Unavailable("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return Status::Unavailable("cannot rename " + temporary + " to " + path);
  }
  return Status::Ok();
}

Status WriteJsonFile(const std::string& path, const Json& json) {
  return WriteFileAtomically(
      path, json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

}  // namespace anchorage::io
