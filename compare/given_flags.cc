#include "compare/given_flags.h"

#include <algorithm>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace anchorage::compare {
namespace {

void AddConfigKeys(const std::string& path, std::set<std::string>* given) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) return;
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      std::replace(key.begin(), key.end(), '_', '-');
      given->insert("--" + key);
    }
  } catch (const YAML::Exception&) {
    // The flag parser has already reported an unreadable file.
  }
}

}  // namespace

std::set<std::string> GivenFlags(int argc, const char* const* argv) {
  std::set<std::string> given;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.size() < 3 || arg.substr(0, 2) != "--") continue;
    const size_t equals = arg.find('=');
    const std::string flag(arg.substr(0, equals));
    given.insert(flag);
    if (flag == "--config") {
      if (equals != std::string_view::npos) {
        config_path = std::string(arg.substr(equals + 1));
      } else if (i + 1 < argc) {
        config_path = argv[i + 1];
      }
    }
  }
  if (!config_path.empty()) AddConfigKeys(config_path, &given);
  return given;
}

}  // namespace anchorage::compare
