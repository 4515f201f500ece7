// The options of one training run. One config file (YAML) describes a whole
// run, so the server, the workers and the demo read the same structs; flags
// override file values. Keys and flags share names: `--local-steps` on the
// command line is `local-steps:` (or `local_steps:`) in the file.
//
// Plain values; Validate() runs before anything starts. A choice among
// names is an enum, named by its table (kBaseBufferNames, ...), which the
// flag parser reads the names from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/base/enum_names.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/data/dataset.h"
#include "common/optim/sgd.h"

namespace anchorage::config {

using algo::Algorithm;

// What a worker does with its local momentum buffer at each new anchor.
enum class BaseBuffer {
  kAuto,   // reset for slowmo, keep otherwise
  kReset,  // zero it
  kKeep,   // carry it on
};

inline constexpr EnumName<BaseBuffer> kBaseBufferNames[] = {
    {BaseBuffer::kAuto, "auto"},
    {BaseBuffer::kReset, "reset"},
    {BaseBuffer::kKeep, "keep"},
};

// The comparisons `anchorage compare` knows (compare/study.h).
enum class Study {
  kCustom,
  kWoodworth,
  kOverlap,
  kSlowMo,
  kCompression,
  kQuantization,
  kSketch
};

inline constexpr EnumName<Study> kStudyNames[] = {
    {Study::kCustom, "custom"},
    {Study::kWoodworth, "woodworth"},
    {Study::kOverlap, "overlap"},
    {Study::kSlowMo, "slowmo"},
    {Study::kCompression, "compression"},
    {Study::kQuantization, "quantization"},
    {Study::kSketch, "sketch"},
};

constexpr std::string_view StudyName(Study study) {
  return NameOf(kStudyNames, study);
}

// What is trained and how: shared by every role.
struct TrainOptions {
  // Number of workers m.
  int workers = 4;
  Algorithm algorithm = Algorithm::kOverlapLocalSgd;
  // Local steps τ between synchronisations (minibatch-sgd: minibatch
  // gradients per round), so equal m, τ and rounds mean equal work.
  int local_steps = 8;
  // overlap-local-sgd: pull strength toward the anchor, in [0, 1]. slowmo,
  // diloco: the outer learning rate. When not given, the algorithm's
  // default (AlgorithmTraits::default_alpha; ApplyDependentDefaults).
  double alpha = 0.6;
  // Outer momentum in [0, 1): anchor momentum, SlowMo's β, DiLoCo's
  // Nesterov momentum. When not given, AlgorithmTraits::default_beta.
  double beta = 0.0;
  BaseBuffer base_buffer = BaseBuffer::kAuto;
  // Local optimizer: learning rate γ, momentum μ, Nesterov, weight decay
  // (minibatch-sgd: the server's optimizer). When not given, μ is 0.9, or
  // 0 for minibatch-sgd with fetchsgd, whose momentum is in sketch space
  // (ApplyDependentDefaults).
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  // Standardise every feature to mean 0, variance 1 over the training set
  // (train_data.h).
  bool standardize = false;
  double weight_decay = 0.0;
  int batch_size = 32;
  // Linear warm-up length and step-decay milestones, in epochs.
  double warmup_epochs = 0.0;
  std::vector<double> decay_epochs;
  double decay_factor = 0.1;
  // Length of the run: passes over the training set by all workers together,
  // and/or a number of anchor versions (0 = no limit). At least one is set.
  double epochs = 10.0;
  int64_t max_versions = 0;
  data::DatasetKind dataset = data::DatasetKind::kFashionMnist;
  // Folder of the dataset files; empty = the installed default.
  std::string data_dir;
  // Folder of the decoded dataset cache (data/dataset_cache.h); empty = no
  // cache, every load decodes the source files.
  std::string data_cache;
  // iid or dirichlet:A.
  std::string partition = "iid";
  // softmax or mlp:H1,H2,...
  std::string model = "mlp:256,128";
  // Codec of pushes on the wire (anchors always travel as dense float32);
  // its parameters are RunConfig::codec_options.
  std::string codec = "dense";
  // Every random choice derives from it.
  uint64_t seed = 1;

  // Whether workers zero their local momentum at each new anchor:
  // `base_buffer`, where auto means reset for slowmo only.
  bool reset_base_buffer() const;
  // The local optimizer, with the schedule converted from epochs to local
  // steps: `steps_per_epoch` steps make one pass over a worker's shard.
  optim::SgdOptions LocalOptimizer(int64_t steps_per_epoch) const;
  // Local steps per epoch of the run for a training set of `train_size`:
  // one pass over one worker's shard (all workers advance together).
  int64_t StepsPerEpoch(int64_t train_size) const;
  // Pushes one worker makes over the run (an estimate under
  // --max-versions alone, which counts every worker's pushes).
  int64_t PlannedPushes(int64_t train_size) const;
};

// The anchor-aggregation server.
struct ServerOptions {
  // ZeroMQ endpoint bound for workers; port * picks a free one.
  std::string bind = "tcp://0.0.0.0:5555";
  // async or sync; unset (auto) picks the run's natural mode, see
  // ResolvedAggregation.
  std::optional<algo::AggregationMode> aggregation;
  // Sync mode: a round closes when every live worker has pushed, or after
  // this deadline once `quorum` of them have.
  double round_deadline_seconds = 30.0;
  double quorum = 1.0;
  // Heartbeat interval; a peer silent for `heartbeat_liveness` intervals is
  // considered gone.
  int heartbeat_interval_ms = 500;
  int heartbeat_liveness = 20;
  // Seconds between evaluations of the anchor on the test set (0 = only at
  // the end); at most `eval_examples` test examples (0 = all).
  double eval_interval_seconds = 2.0;
  int64_t eval_examples = 0;
  // Recovery (DESIGN.md section 10): the round state is checkpointed into
  // this directory (empty = never) every `checkpoint_interval_seconds` and
  // at SIGTERM/SIGINT, and resumed from it at start.
  std::string checkpoint_dir;
  double checkpoint_interval_seconds = 30.0;
  // Exit 1 after this many seconds without a live worker (0 = never).
  double idle_timeout_seconds = 120.0;
  // Contribution bounds (DESIGN.md section 10): a contribution whose update
  // norm exceeds `max_update_norm` (0 = none) or `update_norm_factor` (0 =
  // none) times the median of recent accepted ones is refused.
  double max_update_norm = 0.0;
  double update_norm_factor = 10.0;
  // Sync rounds: how contributions combine, coordinate by coordinate:
  // mean, median or trimmed-mean:F (algo::ParseCombineRule).
  std::string aggregation_rule = "mean";
  // Async mode: anchor versions between the snapshots sent to workers (0 =
  // auto, one per workers/16 pushes), and the most versions a push's base
  // may lag the anchor (0 = no bound).
  int64_t publish_every = 0;
  int64_t max_staleness = 0;
  // Async mode: the longest a reply waits for the rest of its round, as a
  // fraction of the shorter of the worker's last two times between pushes
  // (0 = reply at once).
  double reply_wait = 0.5;
  // At the run's start, the longest the Welcomes wait for every expected
  // worker to join, in seconds after the first join (0 = each worker
  // begins as it joins).
  double start_wait_seconds = 0;
  // Async mode: none, inverse (a contribution of staleness s counts
  // 1/(1 + s) of its change) or rounds (m/(1 + s), at most 1;
  // algo::StalenessWeight).
  algo::StalenessWeight staleness_weight = algo::StalenessWeight::kRounds;
  // How anchors travel down: dense, fp16 or bf16 (algo::IsAnchorCodec).
  std::string anchor_codec = "dense";
  // Pushes granted and not yet received at once (server/push_credits.h);
  // 0 = auto: no limit, unless the server's memory bound needs one to fit
  // the cgroup's memory limit.
  int64_t push_credits = 0;
  // The anchor service split over `shards` servers, each holding a
  // contiguous slice of the model (algo/model_slice.h); this server is
  // shard `shard`. The demo launches all of them; the simulator models them.
  int shards = 1;
  int shard = 0;

  // --aggregation, or the run's natural mode: sync for the sketched codecs
  // (they sum a whole round) and for every algorithm but
  // overlap-local-sgd, async for overlap-local-sgd.
  algo::AggregationMode ResolvedAggregation(const TrainOptions& train) const;
};

// A training worker.
struct WorkerOptions {
  // Server endpoint to connect to.
  std::string server = "tcp://127.0.0.1:5555";
  // A sharded anchor service: every shard's endpoint, shard 0 first
  // (replaces `server`).
  std::vector<std::string> servers;
  // This worker's id in [0, workers); it selects the data shard.
  int worker_id = 0;
  // Give up when the server has been unreachable this long.
  double server_timeout_seconds = 60.0;
  // Injected delays, to study slow links and stragglers on one machine:
  // one-way latency added to every message in each direction, link
  // bandwidth in bytes/s (0 = unlimited) applied to the encoded bytes, and
  // compute slowdown: a factor for every worker ("2"), or per worker
  // ("0:4,3:2" makes worker 0 four and worker 3 two times slower).
  double link_latency_seconds = 0.0;
  double link_bandwidth_bytes = 0.0;
  std::string slowdown;
  // Each local step takes at least this many seconds: a worker sleeps out
  // the rest (0 = as fast as the CPU). A delay stated in absolute seconds,
  // so a run behaves alike on a fast and a slow CPU.
  double min_step_seconds = 0.0;

  // The slowdown factor of worker `id` under `slowdown` (1 when unset).
  double SlowdownFor(int id) const;
};

// Returns InvalidArgument unless `spec` is "", "F" or "i:F,j:G,..." with
// factors >= 1.
Status ValidateSlowdown(const std::string& spec);

// Where results and metrics go.
struct OutputOptions {
  // Address and port of the /metrics HTTP endpoint (port 0 picks one).
  std::string metrics_address = "0.0.0.0";
  int metrics_port = 0;
  // Server and demo: the summary JSON written at the end.
  std::string summary_json;
  // Server and demo: the final anchor as a 1-D float32 .npy file.
  std::string save_model;
  // Written once the process is listening: {"endpoint":...,
  // "metrics_port":..., "pid":...} (service::ReadyFile).
  std::string ready_file;
  // The lowest level logged.
  LogLevel log_level = LogLevel::kInfo;
};

// CURVE authentication and encryption (DESIGN.md section 10; key files
// from `anchorage keygen`). Empty: plaintext, for trusted networks only.
struct SecurityOptions {
  // The process's own secret key file (server.secret, worker-<i>.secret).
  std::string curve_secret_key;
  // Server: the directory of the worker-<i>.pub files it admits.
  std::string curve_allowed_keys;
  // Worker: the server's public key file (server.pub).
  std::string curve_server_key;
};

// The demo launcher.
struct DemoOptions {
  // Seconds between progress lines; 0 silences them.
  double progress_interval_seconds = 1.0;
  // Give up (and tear everything down) after this long.
  double timeout_seconds = 600.0;
  // Start a local Prometheus server scraping the server and every worker.
  bool prometheus = false;
  // Keep running (and serving metrics) after training ends until Ctrl-C,
  // so the dashboards can be looked at.
  bool linger = false;
  // Run every process with CURVE keys made for the run (keygen).
  bool secure = false;
  // Chaos: first the same run without it, then one in which the server or
  // a worker, chosen at random, is killed with SIGKILL at random moments
  // (on average every `chaos_interval_seconds`, drawn from `chaos_seed`)
  // and started again with the same flags.
  bool chaos = false;
  uint64_t chaos_seed = 1;
  double chaos_interval_seconds = 2.5;
};

// The simulator's virtual clock (`anchorage simulate`); link latency,
// bandwidth and --slowdown come from WorkerOptions, as for real workers.
struct SimulateOptions {
  // Mean virtual seconds of one local step, and its coefficient of
  // variation (log-normal; 0 = constant).
  double step_seconds = 0.01;
  double step_jitter = 0.0;
  // Random stragglers "P:F": each round each worker is F times slower with
  // probability P.
  std::string random_slowdown;
  // Each anchor-service shard (ServerOptions::shards) has its own network
  // interface of this many bytes/s each direction (0 = unlimited), which
  // carries its slice of every message to and from every worker.
  double server_bandwidth_bytes = 0.0;
  // Evaluations of the anchor over the run.
  int eval_points = 20;
  // The trace: one CSV row per evaluation.
  std::string trace_csv;
  // Failures (simulator.h, FailureOptions): crashes per virtual second of
  // each worker and of the server, and the seconds a crashed process is
  // down. The server resumes from its checkpoint every
  // ServerOptions::checkpoint_interval_seconds.
  double fail_rate = 0.0;
  double server_fail_rate = 0.0;
  double restart_seconds = 1.0;
};

// `anchorage compare`.
struct CompareOptions {
  // custom (the --algorithms on the given settings), or a preset study.
  Study study = Study::kCustom;
  // custom: the algorithms to compare.
  std::vector<Algorithm> algorithms = {Algorithm::kMinibatchSgd,
                                       Algorithm::kLocalSgd,
                                       Algorithm::kOverlapLocalSgd};
  // Where the CSV, the Markdown table and the SVG plots go.
  std::string out_dir = "compare-out";
  // Run real processes (anchorage demo) instead of the simulator.
  bool real = false;
  // Test accuracy whose first crossing times are reported.
  double target_accuracy = 0.8;
  // Each run once per seed (empty: --seed alone); the report gives the
  // mean and standard deviation over them.
  std::vector<uint64_t> seeds;
  // Simulated runs at once (0 = one per core); real runs go one by one.
  int jobs = 0;
};

struct RunConfig {
  TrainOptions train;
  // The push codec's parameters as the flags set them (--bits, --topk,
  // --sketch-*, ...); each codec reads its own (codec/codec.h).
  codec::CodecOptions codec_options;
  ServerOptions server;
  WorkerOptions worker;
  OutputOptions output;
  SecurityOptions security;
  DemoOptions demo;
  SimulateOptions simulate;
  CompareOptions compare;

  // The codec settings of one sender: codec_options with what derives from
  // the run: `sender` separates the random streams of senders (the worker
  // id), `planned_encodes` is the number of pushes the sender makes in the
  // run (DQ-SGD's N), and the sketch's hash seed comes from --seed.
  codec::CodecOptions CodecSettings(int sender, int64_t planned_encodes) const;
  // The same for the slice a sender pushes to shard `shard` of a sharded
  // service: each slice draws from its own random stream (QSGD's rounding
  // of a slice's coordinates is independent of the other slices'), shard 0
  // keeping the unsharded stream; every shard has the one sketch seed.
  codec::CodecOptions ShardCodecSettings(int sender, int64_t planned_encodes,
                                         int shard) const;

  // Returns InvalidArgument naming the first flag whose value is out of
  // range, as "--flag: problem (got value)".
  Status Validate() const;
};

// Parses --random-slowdown "P:F"; false when malformed or out of range.
bool ParseRandomSlowdown(const std::string& spec, double* probability,
                         double* factor);

// The aggregation rule the run's server applies: mode from --aggregation
// (or the algorithm's default) and the outer rule from the algorithm, α
// and β.
algo::AggregatorOptions AggregatorSettings(const RunConfig& config);

}  // namespace anchorage::config
