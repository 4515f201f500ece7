#include "common/io/json.h"

#include <string>
#include <string_view>

#include "common/io/file.h"

namespace anchorage::io {

Status WriteJsonFile(const std::string& path, const Json& json,
                     Durability durability) {
  const std::string text =
      json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  const std::string_view parts[] = {text};
  return WriteFileAtomically(path, parts, durability);
}

}  // namespace anchorage::io
