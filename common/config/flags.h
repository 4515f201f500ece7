// Command-line and YAML parsing for the `anchorage` subcommands. Flags and
// config-file keys come from one table (flag_table.h), so every subcommand
// spells and documents them the same way; a flag given on the command line
// overrides the same key in `--config FILE`.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/run_config.h"

namespace anchorage::config {

// Which subcommand is parsing: selects the flags it accepts.
enum class Role { kServer, kWorker, kDemo, kSimulate, kCompare };

// What the command line (and its --config file) said.
struct ParsedCommandLine {
  RunConfig config;
  // The flags the user set, on the command line or as keys of the --config
  // file, spelled as flags ("--local-steps" for `local_steps:`); every
  // other option has its default.
  std::set<std::string> given;
};

// Parses `argv[1..argc)` (argv[0] is the subcommand name) for `role`,
// loads `--config` if given, and validates the result. The demo's defaults
// differ in three flags: --workers is the number of cores (2 to 16),
// --batch-size 128 and --lr 0.1. Returns nullopt when
// --help was asked for (the help text is then printed to stdout), and
// InvalidArgument with a one-line message naming the flag or key and the
// value on any error.
StatusOr<std::optional<ParsedCommandLine>> ParseCommandLine(
    Role role, int argc, const char* const* argv);

// The options whose default depends on other options: sets each of them
// that is not in `given` (flag names, as ParsedCommandLine::given) to the
// default for `config`'s algorithm and codec. The one place these rules
// live:
//   --alpha, --beta: they mean different things per algorithm; the
//     algorithm's defaults (algo::AlgorithmTraits).
//   --momentum, --sketch-momentum: where the momentum lives. FetchSGD
//     (--codec fetchsgd) with minibatch-sgd keeps it on the server in
//     sketch space, before the top-k (ALGORITHMS.md 4): --sketch-momentum
//     0.9 and --momentum (minibatch SGD's server optimizer, which would act
//     on the sparse update after it) 0. Everywhere else --momentum 0.9 and
//     --sketch-momentum 0: the local methods' workers keep their momentum
//     over the τ steps of a round, which measured better with FetchSGD
//     than momentum in sketch space (and overlap-local-sgd diverged with
//     it: its push also carries the part of the anchor its pull did not
//     adopt, which momentum on the server amplifies).
// The parser applies it after parsing; a caller that changes the algorithm
// or the codec applies it again.
void ApplyDependentDefaults(const std::set<std::string>& given,
                            RunConfig* config);

// Renders the options of the run (training, server tuning, timeouts, log
// level, injected delays: the rows of flag_table.h marked Scope::kShared)
// that `child` accepts as flags, so a launcher can start servers and
// workers that agree with it. Values round-trip exactly; a value that
// leaving the flag out gives (an empty string, false, auto) is left out.
std::vector<std::string> SharedFlags(const RunConfig& config, Role child);

// What identifies a run for its checkpoints: every Training flag but
// --data-dir and --data-cache (paths may differ between machines, and a
// cache holds the same data), and the resolved
// aggregation mode, as flag name → value ("--lr" → "0.05"; a flag left at
// an empty default is absent). A server resumes a checkpoint only when its
// own fingerprint is equal.
std::map<std::string, std::string> RunFingerprint(const RunConfig& config);

}  // namespace anchorage::config
