// The one table of the `anchorage` flags. Each row names a flag, its help
// group and text, the subcommands that accept it, whether a launcher
// passes it on to the servers and workers it starts, and the RunConfig
// field it sets. The parser (flags.cc) declares the flags on CLI11 from it
// and renders SharedFlags from it, so adding a flag is a field, a row, and
// a range check in RunConfig::Validate when it has one.
//
// Internal to the config library (CLI11 is its private dependency).
// Thread-safety: the table is built once and never changes; reading it is
// safe from any thread.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/config/flags.h"
#include "common/config/run_config.h"

namespace anchorage::config {

// A set of subcommands.
class RoleSet {
 public:
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (const Role role : roles) {
      bits_ |= Bit(role);
    }
  }
  // Every subcommand.
  static constexpr RoleSet All() {
    return {Role::kServer, Role::kWorker, Role::kDemo, Role::kSimulate,
            Role::kCompare};
  }

  constexpr bool contains(Role role) const { return (bits_ & Bit(role)) != 0; }

 private:
  static constexpr unsigned Bit(Role role) {
    return 1U << static_cast<unsigned>(role);
  }

  unsigned bits_ = 0;
};

// Whether a launcher (demo, compare --real) passes a flag on to its
// children, so they agree with it.
enum class Scope {
  kOwn,     // the process's own setting (--bind, --summary-json, ...)
  kShared,  // the run's setting, rendered by SharedFlags
};

// How a flag reaches its RunConfig field; built from a pointer to the field
// by the helpers in flag_table.cc.
struct FlagBinding {
  // Declares the flag `name` on `app`, writing `*config`'s field when given
  // and showing the field's current value as the default in the help.
  std::function<CLI::Option*(CLI::App& app, const std::string& name,
                             const std::string& help, RunConfig* config)>
      add;
  // The one argument ("--lr=0.05", "--nesterov") that makes the parser set
  // the field to its value in `config`, bit for bit; nullopt when the value
  // is what leaving the flag out means (an empty string or list, false, or
  // an unset choice).
  std::function<std::optional<std::string>(const std::string& name,
                                           const RunConfig& config)>
      render;
};

struct Flag {
  std::string name;   // "--workers"
  std::string group;  // the help section, "Training"
  std::string help;
  RoleSet roles;  // the subcommands that accept it
  Scope scope;
  FlagBinding binding;
};

// The help group of the settings that define a run's trajectory.
inline constexpr char kTrainingGroup[] = "Training";

// Every flag, in the order the help lists them.
const std::vector<Flag>& FlagTable();

}  // namespace anchorage::config
