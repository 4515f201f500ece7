#include "common/config/flags.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include "common/algo/algorithm.h"
#include "common/config/flag_table.h"

namespace anchorage::config {
namespace {

// Reads a flat YAML mapping into CLI11 config items. Keys may use dashes or
// underscores; sequences become multiple values; unknown keys are errors
// that name the key.
class YamlConfig : public CLI::Config {
 public:
  explicit YamlConfig(const CLI::App* app) : app_(app) {}

  std::string to_config(const CLI::App* /*app*/, bool /*defaults*/,
                        bool /*write_description*/,
                        std::string /*prefix*/) const override {
    return {};
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    YAML::Node root;
    try {
      root = YAML::Load(input);
    } catch (const YAML::Exception& e) {
      throw CLI::ConfigError("config file is not valid YAML: " +
                             std::string(e.what()));
    }
    try {
      return Items(root);
    } catch (const YAML::Exception& e) {
      throw CLI::ConfigError("config file: " + std::string(e.what()));
    }
  }

 private:
  std::vector<CLI::ConfigItem> Items(const YAML::Node& root) const {
    std::vector<CLI::ConfigItem> parsed;
    if (root.IsNull()) return parsed;
    if (!root.IsMap()) {
      throw CLI::ConfigError("config file must be a mapping of key: value");
    }
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      std::replace(key.begin(), key.end(), '_', '-');
      if (key == "config" || app_->get_option_no_throw("--" + key) == nullptr) {
        throw CLI::ConfigError("unknown key '" + entry.first.as<std::string>() +
                               "' in config file");
      }
      CLI::ConfigItem item;
      item.name = key;
      const YAML::Node& value = entry.second;
      if (value.IsSequence()) {
        for (const auto& element : value) {
          if (!element.IsScalar()) {
            throw CLI::ConfigError("config key '" + key +
                                   "' must be a list of scalars");
          }
          item.inputs.push_back(element.as<std::string>());
        }
      } else if (value.IsScalar()) {
        item.inputs.push_back(value.as<std::string>());
      } else {
        throw CLI::ConfigError("config key '" + key +
                               "' must be a scalar or a list");
      }
      parsed.push_back(std::move(item));
    }
    return parsed;
  }

  const CLI::App* app_;
};

const char* Description(Role role) {
  switch (role) {
    case Role::kServer:
      return "The anchor-aggregation server: owns the anchor, folds worker "
             "contributions into it and publishes new versions.";
    case Role::kWorker:
      return "A CPU training worker: local steps on its data shard, "
             "synchronising with the server's anchor.";
    case Role::kDemo:
      return "Runs one server and N workers as local processes on loopback, "
             "shows progress and prints a summary.";
    case Role::kSimulate:
      return "Runs the algorithm on m simulated workers in one process on a "
             "virtual clock with a delay model; deterministic for a seed.";
    case Role::kCompare:
      return "Runs several algorithms on the same data, seed and budget and "
             "writes a CSV, a Markdown table and SVG plots.";
  }
  return "";
}

// The demo runs on the machine it starts on, so its defaults fit it: one
// worker per core (at least 2, at most 16), since a worker's compute thread
// keeps one core busy and more workers than cores only time-slice them;
// and the Overlap-Local-SGD paper's batch of 128 examples per worker with
// its learning rate 0.1 (the launch script of JYWa/Overlap_Local_SGD), a
// round of τ = 8 steps long enough to hide the anchor's round trip; and
// its workers begin together (--start-wait 10), since one that trained
// while the others start would take the cores they start on.
void SetDemoDefaults(RunConfig* config) {
  constexpr int kMinWorkers = 2;
  constexpr int kMaxWorkers = 16;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  config->train.workers = std::clamp(cores, kMinWorkers, kMaxWorkers);
  config->train.batch_size = 128;
  config->train.lr = 0.1;
  config->server.start_wait_seconds = 10;
}

}  // namespace

void ApplyDependentDefaults(const std::set<std::string>& given,
                            RunConfig* config) {
  TrainOptions& train = config->train;
  const algo::AlgorithmTraits traits = algo::TraitsOf(train.algorithm);
  if (given.count("--alpha") == 0) train.alpha = traits.default_alpha;
  if (given.count("--beta") == 0) train.beta = traits.default_beta;
  // FetchSGD's momentum rho in sketch space (Rothchild et al. 2020).
  constexpr double kSketchSpaceMomentum = 0.9;
  const bool momentum_in_sketch =
      train.codec == "fetchsgd" && traits.sends_gradient;
  if (given.count("--momentum") == 0) {
    train.momentum = momentum_in_sketch ? 0.0 : TrainOptions{}.momentum;
  }
  if (given.count("--sketch-momentum") == 0) {
    config->codec_options.sketch_momentum =
        momentum_in_sketch ? kSketchSpaceMomentum
                           : codec::CodecOptions{}.sketch_momentum;
  }
}

std::vector<std::string> SharedFlags(const RunConfig& config, Role child) {
  std::vector<std::string> flags;
  for (const Flag& flag : FlagTable()) {
    if (flag.scope != Scope::kShared || !flag.roles.contains(child)) continue;
    std::optional<std::string> argument =
        flag.binding.render(flag.name, config);
    if (argument) flags.push_back(std::move(*argument));
  }
  return flags;
}

std::map<std::string, std::string> RunFingerprint(const RunConfig& config) {
  std::map<std::string, std::string> fingerprint;
  for (const Flag& flag : FlagTable()) {
    if (flag.group != kTrainingGroup || flag.name == "--data-dir" ||
        flag.name == "--data-cache") {
      continue;
    }
    std::optional<std::string> argument =
        flag.binding.render(flag.name, config);
    if (!argument) continue;
    const size_t equals = argument->find('=');
    fingerprint[flag.name] =
        equals == std::string::npos ? "true" : argument->substr(equals + 1);
  }
  fingerprint["--aggregation"] = algo::AggregationModeName(
      config.server.ResolvedAggregation(config.train));
  // A shard's checkpoint holds its slice: another shard's cannot resume it.
  if (config.server.shards > 1) {
    fingerprint["--shards"] = std::to_string(config.server.shards);
    fingerprint["--shard"] = std::to_string(config.server.shard);
  }
  return fingerprint;
}

StatusOr<std::optional<ParsedCommandLine>> ParseCommandLine(
    Role role, int argc, const char* const* argv) {
  ParsedCommandLine parsed;
  CLI::App app(Description(role), argc > 0 ? argv[0] : "anchorage");
  app.set_config("--config", "", "YAML file with the same keys as the flags");
  app.config_formatter(std::make_shared<YamlConfig>(&app));
  // Before the flags bind: their help shows these defaults.
  if (role == Role::kDemo) SetDemoDefaults(&parsed.config);
  for (const Flag& flag : FlagTable()) {
    if (!flag.roles.contains(role)) continue;
    flag.binding.add(app, flag.name, flag.help, &parsed.config)
        ->group(flag.group);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::optional<ParsedCommandLine>();
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return std::optional<ParsedCommandLine>();
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  for (const Flag& flag : FlagTable()) {
    const CLI::Option* option = app.get_option_no_throw(flag.name);
    if (option != nullptr && option->count() > 0) {
      parsed.given.insert(flag.name);
    }
  }
  ApplyDependentDefaults(parsed.given, &parsed.config);
  Status status = parsed.config.Validate();
  if (!status.ok()) return status;
  return std::optional<ParsedCommandLine>(std::move(parsed));
}

}  // namespace anchorage::config
