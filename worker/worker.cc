#include "worker/worker.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string_view>
#include <thread>
#include <utility>

#include "common/base/log.h"
#include "common/config/train_data.h"

namespace anchorage::worker {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Each of `shards` server shards' CURVE keys (none in plaintext):
// --curve-server-key names one public key for them all, or one per shard,
// comma-separated, shard 0 first.
StatusOr<std::vector<std::optional<transport::CurveClientKeys>>> ReadShardKeys(
    const config::SecurityOptions& security, size_t shards) {
  std::vector<std::optional<transport::CurveClientKeys>> keys(shards);
  if (security.curve_secret_key.empty()) return keys;
  if (security.curve_server_key.empty()) {
    return Status::InvalidArgument(
        "--curve-secret-key needs --curve-server-key (the server's "
        "server.pub)");
  }
  std::vector<std::string> paths;
  std::string_view rest = security.curve_server_key;
  while (true) {
    const size_t comma = rest.find(',');
    paths.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (paths.size() != 1 && paths.size() != shards) {
    return Status::InvalidArgument(
        "--curve-server-key: names " + std::to_string(paths.size()) +
        " keys for " + std::to_string(shards) +
        " server shards; give one for all of them or one per shard");
  }
  for (size_t s = 0; s < shards; ++s) {
    StatusOr<transport::CurveClientKeys> read = transport::ReadCurveClientKeys(
        security.curve_secret_key, paths[paths.size() == 1 ? 0 : s]);
    if (!read.ok()) return read.status();
    keys[s] = std::move(read).value();
  }
  return keys;
}

}  // namespace

StatusOr<std::unique_ptr<Worker>> Worker::Create(
    const config::RunConfig& config, zmq::context_t* context,
    prometheus::Registry* registry) {
  // Key files first: a misconfigured worker fails before loading data.
  const std::vector<std::string> servers =
      config.worker.servers.empty()
          ? std::vector<std::string>{config.worker.server}
          : config.worker.servers;
  StatusOr<std::vector<std::optional<transport::CurveClientKeys>>> curves =
      ReadShardKeys(config.security, servers.size());
  if (!curves.ok()) return curves.status();
  // Only this worker's rows stay in memory; from a dataset cache only they
  // are read.
  StatusOr<config::WorkerData> data =
      config::LoadWorkerShard(config.train, config.worker.worker_id);
  if (!data.ok()) return data.status();
  data::Dataset& shard = data->shard;
  StatusOr<std::unique_ptr<model::Model>> model =
      model::MakeModel(config.train.model, shard.dim(), shard.num_classes);
  if (!model.ok()) return model.status();
  // The learning-rate schedule is in epochs of the whole run; all workers
  // advance together, so one epoch is one pass over this worker's shard.
  const optim::SgdOptions sgd =
      config.train.LocalOptimizer(config.train.StepsPerEpoch(data->train_size));
  Status status = sgd.Validate();
  if (!status.ok()) return status;
  std::vector<float> initial(static_cast<size_t>((*model)->dim()));
  (*model)->Initialize(config.train.seed, initial);
  // A push codec per shard, of its slice, with its own random stream;
  // its options must fit the slice (a sketch's cells).
  const int64_t dim = (*model)->dim();
  if (static_cast<int64_t>(servers.size()) > dim) {
    return Status::InvalidArgument("--servers names " +
                                   std::to_string(servers.size()) +
                                   " shards, more than the model's " +
                                   std::to_string(dim) + " parameters");
  }
  std::vector<ShardLink> links;
  for (size_t s = 0; s < servers.size(); ++s) {
    const algo::ModelSlice slice = algo::SliceOf(
        dim, static_cast<int>(servers.size()), static_cast<int>(s));
    StatusOr<std::unique_ptr<codec::Codec>> codec = codec::MakeCodec(
        config.train.codec, slice.size(),
        config.ShardCodecSettings(config.worker.worker_id,
                                  config.train.PlannedPushes(data->train_size),
                                  static_cast<int>(s)));
    if (!codec.ok()) return codec.status();
    links.push_back({.server = servers[s],
                     .curve = (*curves)[s],
                     .encoder = algo::PushEncoder(config.train.algorithm,
                                                  std::move(codec).value())});
  }
  // The trainer samples shard positions; with the rows held in shard order
  // these are the rows themselves.
  std::vector<int64_t> rows(static_cast<size_t>(shard.size()));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  std::unique_ptr<Worker> worker(new Worker(
      config, context, registry, std::move(shard), std::move(rows),
      std::move(model).value(), sgd, std::move(initial), std::move(links)));
  return worker;
}

Worker::Worker(const config::RunConfig& config, zmq::context_t* context,
               prometheus::Registry* registry, data::Dataset shard,
               std::vector<int64_t> rows, std::unique_ptr<model::Model> model,
               const optim::SgdOptions& sgd, std::vector<float> initial,
               std::vector<ShardLink> links)
    : config_(config),
      context_(context),
      metrics_(*registry,
               std::string(algo::AlgorithmName(config.train.algorithm)),
               config.train.codec),
      shard_(std::move(shard)),
      trainer_(std::move(model), &shard_, std::move(rows),
               config.train.batch_size, sgd, initial,
               algo::WorkerSeed(config.train.seed, config.worker.worker_id)),
      links_(std::move(links)) {}

StatusOr<WorkerResult> Worker::Run() {
  CommunicatorOptions options;
  options.worker_id = static_cast<uint32_t>(config_.worker.worker_id);
  options.model_dim = trainer_.dim();
  options.algorithm = config_.train.algorithm;
  options.shard_size = static_cast<uint64_t>(trainer_.shard_size());
  options.heartbeat_interval =
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms);
  options.heartbeat_liveness = config_.server.heartbeat_liveness;
  options.server_timeout = std::chrono::milliseconds(
      std::llround(config_.worker.server_timeout_seconds * 1000));
  options.link_latency = Seconds(config_.worker.link_latency_seconds);
  options.link_bandwidth_bytes = config_.worker.link_bandwidth_bytes;
  const std::string where =
      links_.size() > 1 ? std::to_string(links_.size()) + " server shards"
                        : links_.front().server;
  ServerLinks comm(*context_, options, trainer_.dim(), std::move(links_),
                   &metrics_);
  links_.clear();
  const double slowdown = config_.worker.SlowdownFor(config_.worker.worker_id);
  LOG_INFO("shard of %lld examples, %s, τ=%d, α=%.2f%s; connecting to %s",
           static_cast<long long>(trainer_.shard_size()),
           std::string(algo::AlgorithmName(config_.train.algorithm)).c_str(),
           config_.train.local_steps, config_.train.alpha,
           slowdown > 1.0
               ? (", slowed down " + std::to_string(slowdown) + "x").c_str()
               : "",
           where.c_str());

  algo::WorkerRound<float> logic(
      &trainer_, {.algorithm = config_.train.algorithm,
                  .local_steps = config_.train.local_steps,
                  .alpha = config_.train.alpha,
                  .reset_momentum = config_.train.reset_base_buffer()});
  algo::WorkerSync sync(logic.overlapped());
  while (!stop_requested_.load()) {
    const algo::WorkerSync::Action action = sync.Next();
    if (!Act(action, sync, logic, comm)) break;
    sync.Done(action);
  }
  result_.rounds = sync.rounds_completed();
  if (stop_requested_.load()) {
    comm.LeaveOnStop();
    end_reason_ = "stopped by signal";
  }
  if (!end_status_.ok()) return end_status_;
  result_.end_reason = end_reason_;
  return result_;
}

bool Worker::Act(algo::WorkerSync::Action action, algo::WorkerSync& sync,
                 algo::WorkerRound<float>& logic, ServerLinks& comm) {
  using Action = algo::WorkerSync::Action;
  switch (action) {
    case Action::kWait:
      return WaitForDelivery(comm, sync);
    case Action::kStart:
      // The Welcome carries the current anchor: a late joiner starts from
      // it, and a rejoined blocking worker restarts from it, dropping the
      // round it computed since its last push (its examples are in no
      // contribution).
      logic.Start(latest_->anchor);
      samples_since_push_ = 0;
      if (!started_) {
        started_ = true;
        result_.joined_at_version = latest_->header.version;
        if (on_joined_) on_joined_();
      }
      return true;
    case Action::kCompute:
      Compute(logic, sync);
      return !stop_requested_.load() && DrainDeliveries(comm, sync);
    case Action::kPush:
      Push(comm, sync.round(), logic.Contribution({}));
      return true;
    case Action::kPullAndPush:
    case Action::kAdopt:
      break;
  }
  // A sync point passes: record how long it blocked, then go on.
  result_.sync_wait_seconds += wait_seconds_;
  metrics_.sync_wait.Observe(wait_seconds_);
  wait_seconds_ = 0;
  if (action == Action::kAdopt) {
    logic.FinishRound(latest_->anchor);
  } else {
    // Pull toward the newest anchor that has arrived; it answers the
    // previous round, so waiting happens only if that one is late.
    Push(comm, sync.round(), logic.Contribution(latest_->anchor));
  }
  return true;
}

void Worker::Compute(algo::WorkerRound<float>& logic,
                     const algo::WorkerSync& sync) {
  // The end of this process's start-up, reported with every push.
  if (first_step_unix_ns_ == 0) first_step_unix_ns_ = UnixNanos();
  const Clock::time_point start = Clock::now();
  last_loss_ = logic.Compute(sync.schedule_step());
  double compute = Seconds(Clock::now() - start).count();
  const double slowdown = config_.worker.SlowdownFor(config_.worker.worker_id);
  const int steps = config_.train.local_steps;
  // A straggler: the same work takes `slowdown` times as long; and no step
  // is faster than --min-step-time.
  const double wanted =
      std::max(compute * slowdown, steps * config_.worker.min_step_seconds);
  if (wanted > compute) {
    std::this_thread::sleep_for(Seconds(wanted - compute));
    compute = wanted;
  }
  result_.compute_seconds += compute;
  result_.local_steps += steps;
  metrics_.compute_seconds.Increment(compute);
  metrics_.local_steps.Increment(steps);
  const auto samples = static_cast<uint64_t>(steps) *
                       static_cast<uint64_t>(trainer_.batch_size());
  metrics_.samples.Increment(static_cast<double>(samples));
  samples_since_push_ += samples;
  metrics_.train_loss.Set(last_loss_);
  metrics_.learning_rate.Set(trainer_.learning_rate());
}

bool Worker::WaitForDelivery(ServerLinks& comm, algo::WorkerSync& sync) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<Delivery> delivery =
      comm.Receive(std::chrono::milliseconds(100));
  if (sync.joined()) wait_seconds_ += Seconds(Clock::now() - start).count();
  return delivery == nullptr || Apply(std::move(delivery), sync);
}

bool Worker::DrainDeliveries(ServerLinks& comm, algo::WorkerSync& sync) {
  while (std::unique_ptr<Delivery> delivery =
             comm.Receive(std::chrono::milliseconds(0))) {
    if (!Apply(std::move(delivery), sync)) return false;
  }
  return true;
}

bool Worker::Apply(std::unique_ptr<Delivery> delivery, algo::WorkerSync& sync) {
  switch (delivery->kind) {
    case Delivery::Kind::kDone:
      if (!delivery->completed) {
        end_status_ = Status::Unavailable(
            "the server stopped the run before it completed: " +
            delivery->text);
        return false;
      }
      end_reason_ = "server done: " + delivery->text;
      LOG_INFO("server says done at anchor v%llu (%s)",
               static_cast<unsigned long long>(delivery->header.version),
               delivery->text.c_str());
      return false;
    case Delivery::Kind::kFatal:
      end_status_ = Status::Unavailable(delivery->text);
      return false;
    case Delivery::Kind::kAnchor:
      if (sync.Offer(delivery->header)) latest_ = std::move(delivery);
      return true;
  }
  return true;
}

void Worker::Push(ServerLinks& comm, uint64_t round,
                  std::span<const float> contribution) {
  auto push = std::make_unique<OutgoingPush>();
  push->base_version = latest_->header.version;
  push->round = round;
  push->report = {
      .samples = samples_since_push_,
      .local_steps = static_cast<uint64_t>(config_.train.local_steps),
      .train_loss = static_cast<float>(last_loss_),
      .compute_seconds = result_.compute_seconds,
      .sync_wait_seconds = result_.sync_wait_seconds,
      .first_step_unix_ns = first_step_unix_ns_};
  push->contribution.assign(contribution.begin(), contribution.end());
  push->base = latest_;
  samples_since_push_ = 0;
  comm.SendPush(std::move(push));
}

}  // namespace anchorage::worker
