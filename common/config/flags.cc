#include "common/config/flags.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

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

void AddTrainFlags(CLI::App& app, TrainOptions& t) {
  const char* group = "Training";
  app.add_option("--workers", t.workers, "Number of workers m")
      ->group(group)
      ->capture_default_str();
  app.add_option("--algorithm", t.algorithm,
                 "overlap-local-sgd (pull toward the anchor, send without "
                 "waiting), local-sgd (send, wait, adopt the average), "
                 "minibatch-sgd (send the gradient every round), slowmo "
                 "(outer momentum) or diloco (outer Nesterov)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--local-steps", t.local_steps,
                 "Local steps τ between synchronisations")
      ->group(group)
      ->capture_default_str();
  app.add_option("--alpha", t.alpha,
                 "Pull strength toward the anchor, [0,1]; slowmo and diloco: "
                 "outer learning rate (default 0.6; slowmo 1.0, diloco 0.7)")
      ->group(group);
  app.add_option("--beta", t.beta,
                 "Outer momentum β, [0,1) (default 0; slowmo 0.5, diloco "
                 "0.9)")
      ->group(group);
  app.add_option("--base-buffer", t.base_buffer,
                 "Local momentum at each adopted anchor: reset, keep or auto "
                 "(reset for slowmo)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--lr", t.lr, "Local learning rate γ")
      ->group(group)
      ->capture_default_str();
  app.add_option("--momentum", t.momentum, "Local momentum μ, [0,1)")
      ->group(group)
      ->capture_default_str();
  app.add_flag("--nesterov", t.nesterov, "Nesterov local momentum")
      ->group(group);
  app.add_option("--weight-decay", t.weight_decay, "L2 weight decay")
      ->group(group)
      ->capture_default_str();
  app.add_option("--batch-size", t.batch_size, "Examples per local step")
      ->group(group)
      ->capture_default_str();
  app.add_option("--warmup-epochs", t.warmup_epochs,
                 "Linear learning-rate warm-up, in epochs")
      ->group(group)
      ->capture_default_str();
  app.add_option("--decay-epochs", t.decay_epochs,
                 "Epochs at which the learning rate is multiplied by "
                 "--decay-factor")
      ->group(group)
      ->delimiter(',');
  app.add_option("--decay-factor", t.decay_factor, "Step-decay factor")
      ->group(group)
      ->capture_default_str();
  app.add_option("--epochs", t.epochs,
                 "Passes over the training set by all workers together "
                 "(0 = no limit)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--max-versions", t.max_versions,
                 "Stop after this many anchor versions (0 = no limit)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--dataset", t.dataset,
                 "fashion-mnist, fashion-mnist-binary, synthetic-gaussian or "
                 "synthetic-logistic")
      ->group(group)
      ->capture_default_str();
  app.add_option("--data-dir", t.data_dir,
                 "Dataset folder (default: /usr/share/datasets/fashion-mnist)")
      ->group(group);
  app.add_option("--partition", t.partition,
                 "iid, dirichlet:A (per-class Dirichlet) or mix:P (fraction P "
                 "shared, the rest from the worker's own labels)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--model", t.model, "softmax or mlp:H1,H2,...")
      ->group(group)
      ->capture_default_str();
  app.add_option("--codec", t.codec,
                 "Push compression: dense, fp16, bf16, qsgd, dqsgd, topk, "
                 "sketch or fetchsgd")
      ->group(group)
      ->capture_default_str();
  app.add_option("--bits", t.bits, "qsgd: bits per coordinate, in [2, 16]")
      ->group(group)
      ->capture_default_str();
  app.add_option("--dqsgd-rule", t.dqsgd_rule,
                 "dqsgd: bit rule, nonconvex or strongly-convex")
      ->group(group)
      ->capture_default_str();
  app.add_option("--bit-budget", t.bit_budget,
                 "dqsgd: average bits per coordinate over the run (0 = --bits)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--topk", t.topk,
                 "topk, sketch, fetchsgd: fraction k/d of coordinates per push")
      ->group(group)
      ->capture_default_str();
  app.add_option("--sketch-rows", t.sketch_rows,
                 "sketch, fetchsgd: count-sketch rows")
      ->group(group)
      ->capture_default_str();
  app.add_option("--sketch-columns", t.sketch_columns,
                 "sketch, fetchsgd: count-sketch columns (0 = 10 k for sketch, "
                 "40 k for fetchsgd)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--sketch-candidates", t.sketch_candidates,
                 "sketch: the second round asks for P k candidates")
      ->group(group)
      ->capture_default_str();
  app.add_option("--sketch-momentum", t.sketch_momentum,
                 "sketch: worker momentum before error accumulation; "
                 "fetchsgd: server momentum in sketch space")
      ->group(group)
      ->capture_default_str();
  app.add_option("--seed", t.seed, "Seed of every random choice")
      ->group(group)
      ->capture_default_str();
}

void AddServerFlags(CLI::App& app, ServerOptions& s, Role role) {
  const char* group = "Server";
  if (role == Role::kServer) {
    app.add_option("--bind", s.bind, "ZeroMQ endpoint for workers")
        ->group(group)
        ->capture_default_str();
  }
  app.add_option("--aggregation", s.aggregation,
                 "async or sync (default: async for overlap-local-sgd, sync "
                 "for local-sgd)")
      ->group(group);
  app.add_option("--round-deadline", s.round_deadline_seconds,
                 "Sync mode: seconds before a round closes with a quorum")
      ->group(group)
      ->capture_default_str();
  app.add_option("--quorum", s.quorum,
                 "Sync mode: fraction of live workers a round needs at its "
                 "deadline")
      ->group(group)
      ->capture_default_str();
  app.add_option("--heartbeat-interval-ms", s.heartbeat_interval_ms,
                 "Heartbeat interval in milliseconds")
      ->group(group)
      ->capture_default_str();
  app.add_option("--heartbeat-liveness", s.heartbeat_liveness,
                 "Silent intervals before a peer counts as gone")
      ->group(group)
      ->capture_default_str();
  app.add_option("--eval-interval", s.eval_interval_seconds,
                 "Seconds between test-set evaluations of the anchor "
                 "(0 = only at the end)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--eval-examples", s.eval_examples,
                 "Test examples per periodic evaluation (0 = all)")
      ->group(group)
      ->capture_default_str();
}

void AddWorkerFlags(CLI::App& app, WorkerOptions& w, Role role) {
  const char* group = "Worker";
  if (role != Role::kWorker) {
    app.add_option("--server-timeout", w.server_timeout_seconds,
                   "Workers give up after the server is unreachable this "
                   "many seconds")
        ->group(group)
        ->capture_default_str();
    return;
  }
  app.add_option("--server", w.server, "Server endpoint")
      ->group(group)
      ->capture_default_str();
  app.add_option("--worker-id", w.worker_id, "This worker's id in [0, workers)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--server-timeout", w.server_timeout_seconds,
                 "Give up after the server is unreachable this many seconds")
      ->group(group)
      ->capture_default_str();
}

void AddDelayFlags(CLI::App& app, WorkerOptions& w) {
  const char* group = "Injected delays (applied by workers)";
  app.add_option("--link-latency", w.link_latency_seconds,
                 "One-way latency added to every message, seconds")
      ->group(group)
      ->capture_default_str();
  app.add_option("--link-bandwidth", w.link_bandwidth_bytes,
                 "Link bandwidth in bytes/s applied to encoded messages "
                 "(0 = unlimited)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--slowdown", w.slowdown,
                 "Compute slowdown: F for every worker, or i:F,j:G per worker")
      ->group(group);
}

void AddOutputFlags(CLI::App& app, OutputOptions& o, Role role) {
  const char* group = "Output";
  if (role == Role::kServer || role == Role::kWorker) {
    app.add_option("--metrics-address", o.metrics_address,
                   "Address of the /metrics endpoint")
        ->group(group)
        ->capture_default_str();
    app.add_option("--metrics-port", o.metrics_port,
                   "Port of the /metrics endpoint (0 = pick one and log it)")
        ->group(group)
        ->capture_default_str();
    app.add_option("--ready-file", o.ready_file,
                   "Write {endpoint, metrics_port} here once listening")
        ->group(group);
  }
  if (role == Role::kServer || role == Role::kDemo || role == Role::kSimulate) {
    app.add_option("--summary-json", o.summary_json,
                   "Write the run's summary JSON here")
        ->group(group);
    app.add_option("--save-model", o.save_model,
                   "Write the final anchor as a float32 .npy file")
        ->group(group);
  }
  app.add_option("--log-level", o.log_level, "debug, info, warning or error")
      ->group(group)
      ->capture_default_str();
}

void AddDemoFlags(CLI::App& app, DemoOptions& d) {
  const char* group = "Demo";
  app.add_option("--progress-interval", d.progress_interval_seconds,
                 "Seconds between progress lines (0 = none)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--timeout", d.timeout_seconds,
                 "Give up after this many seconds")
      ->group(group)
      ->capture_default_str();
  app.add_flag("--prometheus", d.prometheus,
               "Start a local Prometheus scraping the server and every worker "
               "and print its URL")
      ->group(group);
  app.add_flag("--linger", d.linger,
               "With --prometheus: keep Prometheus running after training "
               "until Ctrl-C")
      ->group(group);
}

void AddSimulateFlags(CLI::App& app, SimulateOptions& s) {
  const char* group = "Simulation (virtual clock)";
  app.add_option("--step-time", s.step_seconds,
                 "Mean virtual seconds of one local step")
      ->group(group)
      ->capture_default_str();
  app.add_option("--step-jitter", s.step_jitter,
                 "Coefficient of variation of a step's time (log-normal)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--random-slowdown", s.random_slowdown,
                 "P:F: each round each worker is F times slower with "
                 "probability P")
      ->group(group);
  app.add_option("--eval-points", s.eval_points,
                 "Evaluations of the anchor over the run")
      ->group(group)
      ->capture_default_str();
  app.add_option("--trace-csv", s.trace_csv,
                 "Write one CSV row per evaluation here")
      ->group(group);
}

void AddCompareFlags(CLI::App& app, CompareOptions& c) {
  const char* group = "Compare";
  app.add_option("--study", c.study,
                 "custom (the --algorithms on these settings), woodworth "
                 "(heterogeneity sweep), latency (link latency and "
                 "stragglers), slowmo (SlowMo vs Local SGD), compression "
                 "(accuracy against bytes of every codec)")
      ->group(group)
      ->capture_default_str();
  app.add_option("--algorithms", c.algorithms, "custom: algorithms to run")
      ->group(group)
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--out-dir", c.out_dir,
                 "Folder for results.csv, summary.md and the SVG plots")
      ->group(group)
      ->capture_default_str();
  app.add_flag("--real", c.real,
               "Run real processes (anchorage demo) instead of the simulator")
      ->group(group);
  app.add_option("--target-accuracy", c.target_accuracy,
                 "Report the time and bytes to reach this test accuracy")
      ->group(group)
      ->capture_default_str();
}

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

// --alpha and --beta mean different things per algorithm; when neither the
// command line nor the config file set them, each algorithm gets its
// papers' default.
void ApplyAlgorithmDefaults(const CLI::App& app, TrainOptions* train) {
  const StatusOr<Algorithm> algorithm = algo::ParseAlgorithm(train->algorithm);
  if (!algorithm.ok()) return;
  if (app.get_option("--alpha")->count() == 0) {
    switch (*algorithm) {
      case Algorithm::kSlowMo:
        train->alpha = 1.0;
        break;
      case Algorithm::kDiLoCo:
        train->alpha = 0.7;
        break;
      case Algorithm::kOverlapLocalSgd:
        train->alpha = 0.6;
        break;
      default:
        train->alpha = 1.0;
    }
  }
  if (app.get_option("--beta")->count() == 0) {
    train->beta = *algorithm == Algorithm::kSlowMo   ? 0.5
                  : *algorithm == Algorithm::kDiLoCo ? 0.9
                                                     : 0.0;
  }
}

std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

}  // namespace

std::vector<std::string> SharedFlags(const RunConfig& config) {
  const TrainOptions& t = config.train;
  const ServerOptions& s = config.server;
  std::vector<std::string> flags = {
      "--workers=" + std::to_string(t.workers),
      "--algorithm=" + t.algorithm,
      "--local-steps=" + std::to_string(t.local_steps),
      "--alpha=" + Exact(t.alpha),
      "--beta=" + Exact(t.beta),
      "--lr=" + Exact(t.lr),
      "--momentum=" + Exact(t.momentum),
      "--weight-decay=" + Exact(t.weight_decay),
      "--batch-size=" + std::to_string(t.batch_size),
      "--warmup-epochs=" + Exact(t.warmup_epochs),
      "--decay-factor=" + Exact(t.decay_factor),
      "--epochs=" + Exact(t.epochs),
      "--max-versions=" + std::to_string(t.max_versions),
      "--dataset=" + t.dataset,
      "--partition=" + t.partition,
      "--model=" + t.model,
      "--codec=" + t.codec,
      "--bits=" + std::to_string(t.bits),
      "--dqsgd-rule=" + t.dqsgd_rule,
      "--bit-budget=" + Exact(t.bit_budget),
      "--topk=" + Exact(t.topk),
      "--sketch-rows=" + std::to_string(t.sketch_rows),
      "--sketch-columns=" + std::to_string(t.sketch_columns),
      "--sketch-candidates=" + std::to_string(t.sketch_candidates),
      "--sketch-momentum=" + Exact(t.sketch_momentum),
      "--seed=" + std::to_string(t.seed),
      "--round-deadline=" + Exact(s.round_deadline_seconds),
      "--quorum=" + Exact(s.quorum),
      "--heartbeat-interval-ms=" + std::to_string(s.heartbeat_interval_ms),
      "--heartbeat-liveness=" + std::to_string(s.heartbeat_liveness),
      "--eval-interval=" + Exact(s.eval_interval_seconds),
      "--eval-examples=" + std::to_string(s.eval_examples),
      "--server-timeout=" + Exact(config.worker.server_timeout_seconds),
      "--log-level=" + config.output.log_level,
      "--base-buffer=" + t.base_buffer,
      "--link-latency=" + Exact(config.worker.link_latency_seconds),
      "--link-bandwidth=" + Exact(config.worker.link_bandwidth_bytes),
  };
  if (!config.worker.slowdown.empty()) {
    flags.push_back("--slowdown=" + config.worker.slowdown);
  }
  if (t.nesterov) flags.emplace_back("--nesterov");
  if (!t.data_dir.empty()) flags.push_back("--data-dir=" + t.data_dir);
  if (!s.aggregation.empty()) flags.push_back("--aggregation=" + s.aggregation);
  if (!t.decay_epochs.empty()) {
    std::string epochs;
    for (const double e : t.decay_epochs) {
      epochs += (epochs.empty() ? "" : ",") + Exact(e);
    }
    flags.push_back("--decay-epochs=" + epochs);
  }
  return flags;
}

StatusOr<std::optional<RunConfig>> ParseCommandLine(Role role, int argc,
                                                    const char* const* argv) {
  RunConfig config;
  CLI::App app(Description(role), argc > 0 ? argv[0] : "anchorage");
  app.set_config("--config", "", "YAML file with the same keys as the flags");
  app.config_formatter(std::make_shared<YamlConfig>(&app));
  AddTrainFlags(app, config.train);
  AddServerFlags(app, config.server, role);
  AddWorkerFlags(app, config.worker, role);
  AddOutputFlags(app, config.output, role);
  AddDelayFlags(app, config.worker);
  if (role == Role::kDemo) AddDemoFlags(app, config.demo);
  if (role == Role::kSimulate || role == Role::kCompare) {
    AddSimulateFlags(app, config.simulate);
  }
  if (role == Role::kCompare) AddCompareFlags(app, config.compare);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::optional<RunConfig>();
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return std::optional<RunConfig>();
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  ApplyAlgorithmDefaults(app, &config.train);
  Status status = config.Validate();
  if (!status.ok()) return status;
  return std::optional<RunConfig>(std::move(config));
}

}  // namespace anchorage::config
