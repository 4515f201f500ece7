#include "common/config/flag_table.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/base/enum_names.h"
#include "common/base/log.h"
#include "common/codec/codec.h"
#include "common/data/dataset.h"

namespace anchorage::config {
namespace {

// Text that parses back to the same double, bit for bit.
std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

// The text of one value as a flag argument, round-tripping exactly.
std::string Text(int value) {
  return std::to_string(value);
}
std::string Text(int64_t value) {
  return std::to_string(value);
}
std::string Text(uint64_t value) {
  return std::to_string(value);
}
std::string Text(double value) {
  return Exact(value);
}
std::string Text(const std::string& value) {
  return value;
}

template <typename T>
std::string JoinTexts(const std::vector<T>& values) {
  std::string joined;
  for (const T& value : values) {
    if (!joined.empty()) joined += ",";
    joined += Text(value);
  }
  return joined;
}

// Declares an option of any type CLI11 converts itself.
template <typename T>
CLI::Option* AddOption(CLI::App& app, const std::string& name,
                       const std::string& help, T* field) {
  return app.add_option(name, *field, help)->capture_default_str();
}

CLI::Option* AddOption(CLI::App& app, const std::string& name,
                       const std::string& help, bool* field) {
  return app.add_flag(name, *field, help);
}

// A list: comma-separated, or a YAML sequence in the config file.
template <typename T>
CLI::Option* AddOption(CLI::App& app, const std::string& name,
                       const std::string& help, std::vector<T>* field) {
  return app.add_option(name, *field, help)
      ->delimiter(',')
      ->default_str(JoinTexts(*field));
}

template <typename T>
std::optional<std::string> Render(const std::string& name, const T& value) {
  return name + "=" + Text(value);
}

std::optional<std::string> Render(const std::string& name, bool value) {
  if (!value) return std::nullopt;
  return name;
}

std::optional<std::string> Render(const std::string& name,
                                  const std::string& value) {
  if (value.empty()) return std::nullopt;
  return name + "=" + value;
}

template <typename T>
std::optional<std::string> Render(const std::string& name,
                                  const std::vector<T>& values) {
  if (values.empty()) return std::nullopt;
  return name + "=" + JoinTexts(values);
}

// Binds a flag to the field `options.*field` of `config.*group`.
template <typename Options, typename T>
FlagBinding Bind(Options RunConfig::*group, T Options::*field) {
  return {.add =
              [group, field](CLI::App& app, const std::string& name,
                             const std::string& help, RunConfig* config) {
                return AddOption(app, name, help, &((config->*group).*field));
              },
          .render =
              [group, field](const std::string& name, const RunConfig& config) {
                return Render(name, (config.*group).*field);
              }};
}

// The names a choice flag accepts and the value each one sets.
template <typename Value>
using Choices = std::vector<EnumName<Value>>;

template <typename E, size_t N>
Choices<E> ChoicesOf(const EnumName<E> (&names)[N]) {
  return Choices<E>(std::begin(names), std::end(names));
}

// "auto" for an unset value, then `names`.
template <typename E, size_t N>
Choices<std::optional<E>> AutoOr(const EnumName<E> (&names)[N]) {
  Choices<std::optional<E>> choices = {{std::nullopt, "auto"}};
  for (const EnumName<E>& entry : names) {
    choices.push_back({entry.value, entry.name});
  }
  return choices;
}

// A CLI11 check that an argument names one of `choices`; its message reads
// "--flag: must be one of a, b, c (got d)".
template <typename Value>
CLI::Validator OneOf(const Choices<Value>& choices) {
  return CLI::Validator(
      [choices](std::string& text) -> std::string {
        if (ValueNamed(choices, text)) return "";
        return "must be one of " + JoinNames(choices) + " (got " + text + ")";
      },
      "");
}

template <typename Value>
std::string JoinChoices(const std::vector<Value>& values,
                        const Choices<Value>& choices) {
  std::string joined;
  for (const Value& value : values) {
    if (!joined.empty()) joined += ",";
    joined += NameOf(choices, value);
  }
  return joined;
}

template <typename Value>
CLI::Option* AddChoice(CLI::App& app, const std::string& name,
                       const std::string& help, Value* field,
                       const Choices<Value>& choices) {
  return app
      .add_option_function<std::string>(
          name,
          [field, choices](const std::string& text) {
            *field = *ValueNamed(choices, text);
          },
          help)
      ->check(OneOf(choices))
      ->type_name("TEXT")
      ->default_str(std::string(NameOf(choices, *field)));
}

// A list of choices: comma-separated, or a YAML sequence.
template <typename Value>
CLI::Option* AddChoice(CLI::App& app, const std::string& name,
                       const std::string& help, std::vector<Value>* field,
                       const Choices<Value>& choices) {
  return app
      .add_option_function<std::vector<std::string>>(
          name,
          [field, choices](const std::vector<std::string>& texts) {
            field->clear();
            for (const std::string& text : texts) {
              field->push_back(*ValueNamed(choices, text));
            }
          },
          help)
      ->delimiter(',')
      ->check(OneOf(choices))
      ->type_name("TEXT")
      ->default_str(JoinChoices(*field, choices));
}

template <typename Value>
std::optional<std::string> RenderChoice(const std::string& name,
                                        const Value& value,
                                        const Choices<Value>& choices) {
  return name + "=" + std::string(NameOf(choices, value));
}

// An unset choice ("auto") is what leaving the flag out gives.
template <typename E>
std::optional<std::string> RenderChoice(
    const std::string& name, const std::optional<E>& value,
    const Choices<std::optional<E>>& choices) {
  if (!value) return std::nullopt;
  return name + "=" + std::string(NameOf(choices, value));
}

template <typename Value>
std::optional<std::string> RenderChoice(const std::string& name,
                                        const std::vector<Value>& values,
                                        const Choices<Value>& choices) {
  if (values.empty()) return std::nullopt;
  return name + "=" + JoinChoices(values, choices);
}

// Binds a flag that takes one of `choices` (or a list of them) to the field
// `options.*field` of `config.*group`.
template <typename Options, typename Field, typename Value>
FlagBinding Bind(Options RunConfig::*group, Field Options::*field,
                 Choices<Value> choices) {
  return {
      .add =
          [group, field, choices](CLI::App& app, const std::string& name,
                                  const std::string& help, RunConfig* config) {
            return AddChoice(app, name, help, &((config->*group).*field),
                             choices);
          },
      .render =
          [group, field, choices](const std::string& name,
                                  const RunConfig& config) {
            return RenderChoice(name, (config.*group).*field, choices);
          }};
}

template <typename Options, typename Field, typename E, size_t N>
FlagBinding Bind(Options RunConfig::*group, Field Options::*field,
                 const EnumName<E> (&names)[N]) {
  return Bind(group, field, ChoicesOf(names));
}

// The same binding without a default in the help, for flags whose default
// depends on other flags (the help text says how).
FlagBinding WithoutShownDefault(FlagBinding binding) {
  binding.add = [add = std::move(binding.add)](
                    CLI::App& app, const std::string& name,
                    const std::string& help, RunConfig* config) {
    return add(app, name, help, config)->default_str("");
  };
  return binding;
}

// Bind for a field of one options struct: Train(&TrainOptions::lr), or with
// the table of names of a choice, Train(&TrainOptions::dataset,
// data::kDatasetNames).
template <typename Field, typename... Names>
FlagBinding Train(Field TrainOptions::*field, const Names&... names) {
  return Bind(&RunConfig::train, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Codec(Field codec::CodecOptions::*field, const Names&... names) {
  return Bind(&RunConfig::codec_options, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Server(Field ServerOptions::*field, const Names&... names) {
  return Bind(&RunConfig::server, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Worker(Field WorkerOptions::*field, const Names&... names) {
  return Bind(&RunConfig::worker, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Output(Field OutputOptions::*field, const Names&... names) {
  return Bind(&RunConfig::output, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Security(Field SecurityOptions::*field, const Names&... names) {
  return Bind(&RunConfig::security, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Demo(Field DemoOptions::*field, const Names&... names) {
  return Bind(&RunConfig::demo, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Simulate(Field SimulateOptions::*field, const Names&... names) {
  return Bind(&RunConfig::simulate, field, names...);
}
template <typename Field, typename... Names>
FlagBinding Compare(Field CompareOptions::*field, const Names&... names) {
  return Bind(&RunConfig::compare, field, names...);
}

constexpr char kServerGroup[] = "Server";
constexpr char kWorkerGroup[] = "Worker";
constexpr char kOutputGroup[] = "Output";
constexpr char kDelaysGroup[] = "Injected delays (applied by workers)";
constexpr char kSecurityGroup[] =
    "Security (CURVE; keys from anchorage keygen)";
constexpr char kDemoGroup[] = "Demo";
constexpr char kSimulationGroup[] = "Simulation (virtual clock)";
constexpr char kCompareGroup[] = "Compare";

constexpr RoleSet kAll = RoleSet::All();
constexpr RoleSet kServerOnly = {Role::kServer};
constexpr RoleSet kWorkerOnly = {Role::kWorker};
constexpr RoleSet kServices = {Role::kServer, Role::kWorker};
constexpr RoleSet kRunners = {Role::kServer, Role::kDemo, Role::kSimulate};
constexpr RoleSet kDemoOnly = {Role::kDemo};
constexpr RoleSet kSimulators = {Role::kSimulate, Role::kCompare};
constexpr RoleSet kAllButServer = {Role::kWorker, Role::kDemo, Role::kSimulate,
                                   Role::kCompare};
constexpr RoleSet kCompareOnly = {Role::kCompare};
constexpr RoleSet kShardedRunners = {Role::kServer, Role::kDemo,
                                     Role::kSimulate, Role::kCompare};
constexpr RoleSet kServerAndSimulators = {Role::kServer, Role::kSimulate,
                                          Role::kCompare};

constexpr Scope kOwn = Scope::kOwn;
constexpr Scope kShared = Scope::kShared;

std::vector<Flag> MakeTable() {
  return {
      {"--workers", kTrainingGroup, "Number of workers m", kAll, kShared,
       Train(&TrainOptions::workers)},
      {"--algorithm", kTrainingGroup,
       "overlap-local-sgd (pull toward the anchor, send without waiting), "
       "local-sgd (send, wait, adopt the average), minibatch-sgd (send the "
       "gradient every round), slowmo (outer momentum) or diloco (outer "
       "Nesterov)",
       kAll, kShared, Train(&TrainOptions::algorithm, algo::kAlgorithmNames)},
      {"--local-steps", kTrainingGroup,
       "Local steps τ between synchronisations", kAll, kShared,
       Train(&TrainOptions::local_steps)},
      {"--alpha", kTrainingGroup,
       "Pull strength toward the anchor, [0,1]; slowmo and diloco: outer "
       "learning rate (default 0.6; slowmo 1.0, diloco 0.7)",
       kAll, kShared, WithoutShownDefault(Train(&TrainOptions::alpha))},
      {"--beta", kTrainingGroup,
       "Outer momentum β, [0,1) (default 0; slowmo 0.5, diloco 0.9)", kAll,
       kShared, WithoutShownDefault(Train(&TrainOptions::beta))},
      {"--base-buffer", kTrainingGroup,
       "Local momentum at each adopted anchor: reset, keep or auto (reset "
       "for slowmo)",
       kAll, kShared, Train(&TrainOptions::base_buffer, kBaseBufferNames)},
      {"--lr", kTrainingGroup, "Local learning rate γ", kAll, kShared,
       Train(&TrainOptions::lr)},
      {"--momentum", kTrainingGroup,
       "Local momentum μ, [0,1); minibatch-sgd: the server's (default 0.9; "
       "0 for minibatch-sgd with fetchsgd, whose momentum is "
       "--sketch-momentum)",
       kAll, kShared, WithoutShownDefault(Train(&TrainOptions::momentum))},
      {"--nesterov", kTrainingGroup, "Nesterov local momentum", kAll, kShared,
       Train(&TrainOptions::nesterov)},
      {"--standardize", kTrainingGroup,
       "Standardise every feature to mean 0 and variance 1 over the training "
       "set",
       kAll, kShared, Train(&TrainOptions::standardize)},
      {"--weight-decay", kTrainingGroup, "L2 weight decay", kAll, kShared,
       Train(&TrainOptions::weight_decay)},
      {"--batch-size", kTrainingGroup, "Examples per local step", kAll, kShared,
       Train(&TrainOptions::batch_size)},
      {"--warmup-epochs", kTrainingGroup,
       "Linear learning-rate warm-up, in epochs", kAll, kShared,
       Train(&TrainOptions::warmup_epochs)},
      {"--decay-epochs", kTrainingGroup,
       "Epochs at which the learning rate is multiplied by --decay-factor",
       kAll, kShared, Train(&TrainOptions::decay_epochs)},
      {"--decay-factor", kTrainingGroup, "Step-decay factor", kAll, kShared,
       Train(&TrainOptions::decay_factor)},
      {"--epochs", kTrainingGroup,
       "Passes over the training set by all workers together (0 = no limit)",
       kAll, kShared, Train(&TrainOptions::epochs)},
      {"--max-versions", kTrainingGroup,
       "Stop after this many anchor versions (0 = no limit)", kAll, kShared,
       Train(&TrainOptions::max_versions)},
      {"--dataset", kTrainingGroup, JoinNames(data::kDatasetNames), kAll,
       kShared, Train(&TrainOptions::dataset, data::kDatasetNames)},
      {"--data-dir", kTrainingGroup,
       "Dataset folder (default: /usr/share/datasets/fashion-mnist)", kAll,
       kShared, Train(&TrainOptions::data_dir)},
      {"--data-cache", kTrainingGroup,
       "Folder of the decoded dataset cache: the first load writes it, later "
       "ones map it and copy only the rows they use (default: none; the demo "
       "uses $XDG_CACHE_HOME/anchorage, else ~/.cache/anchorage)",
       kAll, kShared, Train(&TrainOptions::data_cache)},
      {"--partition", kTrainingGroup,
       "iid, dirichlet:A (per-class Dirichlet) or mix:P (fraction P shared, "
       "the rest from the worker's own labels)",
       kAll, kShared, Train(&TrainOptions::partition)},
      {"--model", kTrainingGroup, "softmax or mlp:H1,H2,...", kAll, kShared,
       Train(&TrainOptions::model)},
      {"--codec", kTrainingGroup,
       "Push compression: dense, fp16, bf16, qsgd, dqsgd, topk, sketch, "
       "fetchsgd or global-topk (Sketched SGD with an exact sum: the "
       "sketch's ideal)",
       kAll, kShared, Train(&TrainOptions::codec)},
      {"--bits", kTrainingGroup, "qsgd: bits per coordinate, in [2, 16]", kAll,
       kShared, Codec(&codec::CodecOptions::bits)},
      {"--dqsgd-rule", kTrainingGroup,
       "dqsgd: bit rule (" + JoinNames(codec::kDqsgdRuleNames) + ")", kAll,
       kShared,
       Codec(&codec::CodecOptions::dqsgd_rule, codec::kDqsgdRuleNames)},
      {"--bit-budget", kTrainingGroup,
       "dqsgd: mean bits per coordinate over each worker's pushes, any real "
       "value in [2, 16] (0 = --bits)",
       kAll, kShared, Codec(&codec::CodecOptions::bit_budget)},
      {"--qsgd-bucket", kTrainingGroup,
       "qsgd, dqsgd: values per bucket, each quantised with its own norm (0 "
       "= one bucket for the whole vector)",
       kAll, kShared, Codec(&codec::CodecOptions::qsgd_bucket)},
      {"--dqsgd-mu", kTrainingGroup,
       "dqsgd strongly-convex rule: strong convexity mu > 0", kAll, kShared,
       Codec(&codec::CodecOptions::dqsgd_mu)},
      {"--dqsgd-l", kTrainingGroup,
       "dqsgd strongly-convex rule: smoothness L >= mu; with --lr, alpha = "
       "1 - 2 mu lr + L mu lr^2 must be in (0, 1)",
       kAll, kShared, Codec(&codec::CodecOptions::dqsgd_l)},
      {"--topk", kTrainingGroup,
       "topk: fraction k/d of coordinates per push; sketch, fetchsgd, "
       "global-topk: per round",
       kAll, kShared, Codec(&codec::CodecOptions::topk_fraction)},
      {"--sketch-rows", kTrainingGroup, "sketch, fetchsgd: count-sketch rows",
       kAll, kShared, Codec(&codec::CodecOptions::sketch_rows)},
      {"--sketch-columns", kTrainingGroup,
       "sketch, fetchsgd: count-sketch columns (0 = --sketch-columns-per-k "
       "times k)",
       kAll, kShared, Codec(&codec::CodecOptions::sketch_columns)},
      {"--sketch-columns-per-k", kTrainingGroup,
       "sketch, fetchsgd: with --sketch-columns 0, columns per applied "
       "coordinate (0 = 10 for sketch, 40 for fetchsgd)",
       kAll, kShared, Codec(&codec::CodecOptions::sketch_columns_per_k)},
      {"--sketch-candidates", kTrainingGroup,
       "sketch: the second round asks for P k candidates", kAll, kShared,
       Codec(&codec::CodecOptions::sketch_candidates)},
      {"--sketch-momentum", kTrainingGroup,
       "topk, sketch, global-topk: worker momentum before error "
       "accumulation, stopped where sent or applied; fetchsgd: server "
       "momentum in sketch space (default 0; fetchsgd with minibatch-sgd "
       "0.9)",
       kAll, kShared,
       WithoutShownDefault(Codec(&codec::CodecOptions::sketch_momentum))},
      {"--seed", kTrainingGroup, "Seed of every random choice", kAll, kShared,
       Train(&TrainOptions::seed)},

      {"--bind", kServerGroup, "ZeroMQ endpoint for workers", kServerOnly, kOwn,
       Server(&ServerOptions::bind)},
      {"--aggregation", kServerGroup,
       "auto, async or sync (auto: async for overlap-local-sgd, sync for the "
       "other algorithms and for the sketched codecs)",
       kAll, kShared,
       Server(&ServerOptions::aggregation,
              AutoOr(algo::kAggregationModeNames))},
      {"--aggregation-rule", kServerGroup,
       "Sync rounds: mean, median or trimmed-mean:F (coordinate-wise; F cut "
       "from each end)",
       kAll, kShared, Server(&ServerOptions::aggregation_rule)},
      {"--round-deadline", kServerGroup,
       "Sync mode: seconds before a round closes with a quorum", kAll, kShared,
       Server(&ServerOptions::round_deadline_seconds)},
      {"--quorum", kServerGroup,
       "Sync mode: fraction of live workers a round needs at its deadline",
       kAll, kShared, Server(&ServerOptions::quorum)},
      {"--max-update-norm", kServerGroup,
       "Refuse a contribution whose update norm exceeds this (0 = no "
       "absolute bound)",
       kAll, kShared, Server(&ServerOptions::max_update_norm)},
      {"--update-norm-factor", kServerGroup,
       "Refuse a contribution whose update norm exceeds this many times the "
       "median of recent ones (0 = off)",
       kAll, kShared, Server(&ServerOptions::update_norm_factor)},
      {"--publish-every", kServerGroup,
       "Async mode: anchor versions between the snapshots sent to workers "
       "(0 = auto: one per workers/16 pushes, at least 1)",
       kAll, kShared, Server(&ServerOptions::publish_every)},
      {"--max-staleness", kServerGroup,
       "Async mode: drop a push whose base is more than this many versions "
       "old and send the worker the current anchor (0 = no bound)",
       kAll, kShared, Server(&ServerOptions::max_staleness)},
      {"--reply-wait", kServerGroup,
       "Async mode: hold a push's reply until every live worker has pushed "
       "that round, at most this fraction of the worker's (shorter of its "
       "last two) times between pushes, so it carries the round's anchor "
       "(0 = reply at once)",
       kAll, kShared, Server(&ServerOptions::reply_wait)},
      {"--start-wait", kServerGroup,
       "At the run's start, hold the workers' Welcomes until all --workers "
       "have joined, at most this many seconds after the first join, so "
       "they begin training together (0 = each begins as it joins; must be "
       "below --server-timeout)",
       kAll, kShared, Server(&ServerOptions::start_wait_seconds)},
      {"--anchor-codec", kServerGroup,
       "How anchors travel to the workers: dense, fp16 or bf16 (half the "
       "bytes; workers pull toward the rounded anchor)",
       kAll, kShared, Server(&ServerOptions::anchor_codec)},
      {"--staleness-weight", kServerGroup,
       "Async mode: none; inverse (a contribution of staleness s moves the "
       "anchor 1/(1 + s) of the way it would); or rounds (m/(1 + s), at "
       "most 1: a contribution less than a round old counts whole)",
       kAll, kShared,
       Server(&ServerOptions::staleness_weight, algo::kStalenessWeightNames)},
      {"--push-credits", kServerGroup,
       "Pushes the server lets travel toward it at once; a worker asks "
       "before each push (0 = auto: no limit, unless the server's memory "
       "bound needs one to fit the cgroup's memory limit)",
       kAll, kShared, Server(&ServerOptions::push_credits)},
      {"--shards", kServerGroup,
       "Anchor-service shards: each server holds a contiguous slice of the "
       "model and carries that slice of every message (simulate: on its own "
       "network interface)",
       kShardedRunners, kOwn, Server(&ServerOptions::shards)},
      {"--shard", kServerGroup, "This server's shard in [0, --shards)",
       kServerOnly, kOwn, Server(&ServerOptions::shard)},
      {"--heartbeat-interval-ms", kServerGroup,
       "Heartbeat interval in milliseconds", kAll, kShared,
       Server(&ServerOptions::heartbeat_interval_ms)},
      {"--heartbeat-liveness", kServerGroup,
       "Silent intervals before a peer counts as gone", kAll, kShared,
       Server(&ServerOptions::heartbeat_liveness)},
      {"--eval-interval", kServerGroup,
       "Seconds between test-set evaluations of the anchor (0 = only at the "
       "end)",
       kAll, kShared, Server(&ServerOptions::eval_interval_seconds)},
      {"--eval-examples", kServerGroup,
       "Test examples per periodic evaluation (0 = all)", kAll, kShared,
       Server(&ServerOptions::eval_examples)},
      {"--checkpoint-dir", kServerGroup,
       "Checkpoint the run here and resume from it at start (empty = never)",
       kServerOnly, kOwn, Server(&ServerOptions::checkpoint_dir)},
      {"--checkpoint-interval", kServerGroup,
       "Seconds between checkpoints (also written at SIGTERM/SIGINT; "
       "simulate: virtual seconds)",
       kServerAndSimulators, kOwn,
       Server(&ServerOptions::checkpoint_interval_seconds)},
      {"--idle-timeout", kServerGroup,
       "Exit 1 after this many seconds with no live worker (0 = never)",
       kServerOnly, kOwn, Server(&ServerOptions::idle_timeout_seconds)},

      {"--server", kWorkerGroup, "Server endpoint", kWorkerOnly, kOwn,
       Worker(&WorkerOptions::server)},
      {"--servers", kWorkerGroup,
       "A sharded anchor service: every shard's endpoint, shard 0 first "
       "(replaces --server)",
       kWorkerOnly, kOwn, Worker(&WorkerOptions::servers)},
      {"--worker-id", kWorkerGroup, "This worker's id in [0, workers)",
       kWorkerOnly, kOwn, Worker(&WorkerOptions::worker_id)},
      {"--server-timeout", kWorkerGroup,
       "A worker gives up after the server is unreachable this many seconds",
       kAll, kShared, Worker(&WorkerOptions::server_timeout_seconds)},

      {"--curve-secret-key", kSecurityGroup,
       "This process's CURVE secret key file (empty = plaintext, for trusted "
       "networks only)",
       kServices, kOwn, Security(&SecurityOptions::curve_secret_key)},
      {"--curve-allowed-keys", kSecurityGroup,
       "Server: directory of the worker-<i>.pub keys it admits, key i as "
       "worker i",
       kServerOnly, kOwn, Security(&SecurityOptions::curve_allowed_keys)},
      {"--curve-server-key", kSecurityGroup,
       "Worker: the server's public key file (server.pub)", kWorkerOnly, kOwn,
       Security(&SecurityOptions::curve_server_key)},

      {"--metrics-address", kOutputGroup, "Address of the /metrics endpoint",
       kServices, kOwn, Output(&OutputOptions::metrics_address)},
      {"--metrics-port", kOutputGroup,
       "Port of the /metrics endpoint (0 = pick one and log it)", kServices,
       kOwn, Output(&OutputOptions::metrics_port)},
      {"--ready-file", kOutputGroup,
       "Write {endpoint, metrics_port} here once listening", kServices, kOwn,
       Output(&OutputOptions::ready_file)},
      {"--summary-json", kOutputGroup, "Write the run's summary JSON here",
       kRunners, kOwn, Output(&OutputOptions::summary_json)},
      {"--save-model", kOutputGroup,
       "Write the final anchor as a float32 .npy file", kRunners, kOwn,
       Output(&OutputOptions::save_model)},
      {"--log-level", kOutputGroup, JoinNames(kLogLevelNames), kAll, kShared,
       Output(&OutputOptions::log_level, kLogLevelNames)},

      {"--link-latency", kDelaysGroup,
       "One-way latency added to every message, seconds", kAll, kShared,
       Worker(&WorkerOptions::link_latency_seconds)},
      {"--link-bandwidth", kDelaysGroup,
       "Link bandwidth in bytes/s applied to encoded messages (0 = "
       "unlimited)",
       kAll, kShared, Worker(&WorkerOptions::link_bandwidth_bytes)},
      {"--slowdown", kDelaysGroup,
       "Compute slowdown: F for every worker, or i:F,j:G per worker", kAll,
       kShared, Worker(&WorkerOptions::slowdown)},
      {"--min-step-time", kDelaysGroup,
       "Each local step takes at least S seconds: a worker sleeps out the "
       "rest (0 = as fast as the CPU)",
       kAllButServer, kShared, Worker(&WorkerOptions::min_step_seconds)},

      {"--progress-interval", kDemoGroup,
       "Seconds between progress lines (0 = none)", kDemoOnly, kOwn,
       Demo(&DemoOptions::progress_interval_seconds)},
      {"--timeout", kDemoGroup, "Give up after this many seconds", kDemoOnly,
       kOwn, Demo(&DemoOptions::timeout_seconds)},
      {"--prometheus", kDemoGroup,
       "Start a local Prometheus scraping the server and every worker and "
       "print its URL",
       kDemoOnly, kOwn, Demo(&DemoOptions::prometheus)},
      {"--linger", kDemoGroup,
       "With --prometheus: keep Prometheus running after training until "
       "Ctrl-C",
       kDemoOnly, kOwn, Demo(&DemoOptions::linger)},
      {"--secure", kDemoGroup,
       "Run every process with CURVE keys made for the run", kDemoOnly, kOwn,
       Demo(&DemoOptions::secure)},
      {"--chaos", kDemoGroup,
       "Kill the server or a worker with SIGKILL at random moments and start "
       "it again; compare with the same run without chaos",
       kDemoOnly, kOwn, Demo(&DemoOptions::chaos)},
      {"--chaos-seed", kDemoGroup, "Seed of the chaos: whom to kill and when",
       kDemoOnly, kOwn, Demo(&DemoOptions::chaos_seed)},
      {"--chaos-interval", kDemoGroup, "Mean seconds between chaos kills",
       kDemoOnly, kOwn, Demo(&DemoOptions::chaos_interval_seconds)},

      {"--step-time", kSimulationGroup,
       "Mean virtual seconds of one local step", kSimulators, kOwn,
       Simulate(&SimulateOptions::step_seconds)},
      {"--step-jitter", kSimulationGroup,
       "Coefficient of variation of a step's time (log-normal)", kSimulators,
       kOwn, Simulate(&SimulateOptions::step_jitter)},
      {"--random-slowdown", kSimulationGroup,
       "P:F: each round each worker is F times slower with probability P",
       kSimulators, kOwn, Simulate(&SimulateOptions::random_slowdown)},
      {"--server-bandwidth", kSimulationGroup,
       "Bytes/s of each shard's network interface, each direction, shared "
       "by every worker's messages (0 = unlimited)",
       kSimulators, kOwn, Simulate(&SimulateOptions::server_bandwidth_bytes)},
      {"--fail-rate", kSimulationGroup,
       "Crashes of each worker per virtual second (it restarts afresh)",
       kSimulators, kOwn, Simulate(&SimulateOptions::fail_rate)},
      {"--server-fail-rate", kSimulationGroup,
       "Crashes of the server per virtual second (it resumes from its last "
       "checkpoint, every --checkpoint-interval)",
       kSimulators, kOwn, Simulate(&SimulateOptions::server_fail_rate)},
      {"--restart-time", kSimulationGroup,
       "Virtual seconds a crashed worker or server is down", kSimulators, kOwn,
       Simulate(&SimulateOptions::restart_seconds)},
      {"--eval-points", kSimulationGroup,
       "Evaluations of the anchor over the run", kSimulators, kOwn,
       Simulate(&SimulateOptions::eval_points)},
      {"--trace-csv", kSimulationGroup, "Write one CSV row per evaluation here",
       kSimulators, kOwn, Simulate(&SimulateOptions::trace_csv)},

      {"--study", kCompareGroup,
       "custom (the --algorithms on these settings), woodworth "
       "(heterogeneity sweep), overlap (Overlap-Local-SGD's reference "
       "setting: latency and stragglers), slowmo (SlowMo vs Local SGD), "
       "compression (accuracy against bytes of every codec), quantization "
       "(QSGD and DQ-SGD: accuracy against bits), sketch (Sketched SGD and "
       "FetchSGD in the paper's terms, and a worker sweep to 256)",
       kCompareOnly, kOwn, Compare(&CompareOptions::study, kStudyNames)},
      {"--algorithms", kCompareGroup, "custom: algorithms to run", kCompareOnly,
       kOwn, Compare(&CompareOptions::algorithms, algo::kAlgorithmNames)},
      {"--out-dir", kCompareGroup,
       "Folder for results.csv, summary.md and the SVG plots", kCompareOnly,
       kOwn, Compare(&CompareOptions::out_dir)},
      {"--real", kCompareGroup,
       "Run real processes (anchorage demo) instead of the simulator",
       kCompareOnly, kOwn, Compare(&CompareOptions::real)},
      {"--target-accuracy", kCompareGroup,
       "Report the time and bytes to reach this test accuracy", kCompareOnly,
       kOwn, Compare(&CompareOptions::target_accuracy)},
      {"--seeds", kCompareGroup,
       "Run every configuration once per seed (comma-separated; default: "
       "--seed alone) and report the mean and standard deviation",
       kCompareOnly, kOwn, Compare(&CompareOptions::seeds)},
      {"--jobs", kCompareGroup,
       "Simulated runs at once (0 = one per core; real runs go one by one)",
       kCompareOnly, kOwn, Compare(&CompareOptions::jobs)},
  };
}

}  // namespace

const std::vector<Flag>& FlagTable() {
  static const std::vector<Flag>* const kTable =
      new std::vector<Flag>(MakeTable());
  return *kTable;
}

}  // namespace anchorage::config
