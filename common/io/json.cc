#include "common/io/json.h"

#include "common/io/file.h"

namespace anchorage::io {

Status WriteJsonFile(const std::string& path, const Json& json) {
  return WriteFileAtomically(
      path, json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

}  // namespace anchorage::io
