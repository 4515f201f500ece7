#include "worker/worker.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <utility>

#include "common/algo/algorithm.h"
#include "common/algo/worker_round.h"
#include "common/base/log.h"
#include "common/data/partition.h"

namespace anchorage::worker {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

}  // namespace

StatusOr<std::unique_ptr<Worker>> Worker::Create(
    const config::RunConfig& config, zmq::context_t* context,
    prometheus::Registry* registry) {
  StatusOr<data::TrainTest> data = data::LoadDataset(
      config.train.dataset, config.train.data_dir, config.train.seed);
  if (!data.ok()) return data.status();
  StatusOr<data::Partition> partition = data::MakePartition(
      config.train.partition, data->train.labels, data->train.num_classes,
      config.train.workers, config.train.seed);
  if (!partition.ok()) return partition.status();
  std::vector<int64_t> shard =
      std::move((*partition)[static_cast<size_t>(config.worker.worker_id)]);
  StatusOr<std::unique_ptr<model::Model>> model = model::MakeModel(
      config.train.model, data->train.dim(), data->train.num_classes);
  if (!model.ok()) return model.status();
  // The learning-rate schedule is in epochs of the whole run; all workers
  // advance together, so one epoch is one pass over this worker's shard.
  const optim::SgdOptions sgd = config.train.LocalOptimizer(
      config.train.StepsPerEpoch(data->train.size()));
  Status status = sgd.Validate();
  if (!status.ok()) return status;
  std::vector<float> initial(static_cast<size_t>((*model)->dim()));
  (*model)->Initialize(config.train.seed, initial);
  // The push codec, with this worker's random stream; its options must fit
  // the model's dimension (a sketch's cells).
  StatusOr<std::unique_ptr<codec::Codec>> codec =
      codec::MakeCodec(config.train.codec, (*model)->dim(),
                       config.train.CodecSettings(
                           config.worker.worker_id,
                           config.train.PlannedPushes(data->train.size())));
  if (!codec.ok()) return codec.status();
  return std::unique_ptr<Worker>(new Worker(
      config, context, registry, std::move(data).value(), std::move(shard),
      std::move(model).value(), sgd, std::move(initial),
      algo::PushEncoder(config.train.algorithm, std::move(codec).value())));
}

Worker::Worker(const config::RunConfig& config, zmq::context_t* context,
               prometheus::Registry* registry, data::TrainTest data,
               std::vector<int64_t> shard, std::unique_ptr<model::Model> model,
               const optim::SgdOptions& sgd, std::vector<float> initial,
               algo::PushEncoder encoder)
    : config_(config),
      context_(context),
      metrics_(*registry,
               std::string(algo::AlgorithmName(config.train.algorithm)),
               config.train.codec),
      data_(std::move(data)),
      trainer_(std::move(model), &data_.train, std::move(shard),
               config.train.batch_size, sgd, initial,
               algo::WorkerSeed(config.train.seed, config.worker.worker_id)),
      encoder_(std::move(encoder)) {}

StatusOr<WorkerResult> Worker::Run() {
  CommunicatorOptions options;
  options.server = config_.worker.server;
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
  Communicator comm(*context_, options, std::move(*encoder_), &metrics_);
  encoder_.reset();
  const double slowdown = config_.worker.SlowdownFor(config_.worker.worker_id);
  LOG_INFO("shard of %lld examples, %s, τ=%d, α=%.2f%s; connecting to %s",
           static_cast<long long>(trainer_.shard_size()),
           std::string(algo::AlgorithmName(config_.train.algorithm)).c_str(),
           config_.train.local_steps, config_.train.alpha,
           slowdown > 1.0
               ? (", slowed down " + std::to_string(slowdown) + "x").c_str()
               : "",
           config_.worker.server.c_str());

  // The Welcome carries the current anchor: a late joiner starts from it.
  if (!WaitForAnchor(comm, 0)) {
    if (stop_requested_.load()) comm.LeaveOnStop();
    if (!end_status_.ok()) return end_status_;
    result_.end_reason = end_reason_;
    return result_;
  }
  algo::WorkerRound<float> logic(
      &trainer_, {.algorithm = config_.train.algorithm,
                  .local_steps = config_.train.local_steps,
                  .alpha = config_.train.alpha,
                  .reset_momentum = config_.train.reset_base_buffer()});
  logic.Start(latest_->anchor);
  result_.joined_at_version = latest_->version;
  if (on_joined_) on_joined_();
  uint64_t round = latest_->next_round;
  resync_ = false;

  while (!stop_requested_.load()) {
    const Clock::time_point compute_start = Clock::now();
    const double loss = logic.Compute();
    double compute = Seconds(Clock::now() - compute_start).count();
    if (slowdown > 1.0) {
      // A straggler: the same work takes `slowdown` times as long.
      std::this_thread::sleep_for(Seconds(compute * (slowdown - 1.0)));
      compute *= slowdown;
    }
    const int steps = config_.train.local_steps;
    result_.compute_seconds += compute;
    result_.local_steps += steps;
    metrics_.compute_seconds.Increment(compute);
    metrics_.local_steps.Increment(steps);
    const auto samples = static_cast<uint64_t>(steps) *
                         static_cast<uint64_t>(trainer_.batch_size());
    metrics_.samples.Increment(static_cast<double>(samples));
    samples_since_push_ += samples;
    metrics_.train_loss.Set(loss);
    metrics_.learning_rate.Set(trainer_.learning_rate());
    if (stop_requested_.load() || !DrainDeliveries(comm)) break;
    if (resync_) {
      // Reconnected: continue from the server's round and anchor.
      resync_ = false;
      round = latest_->next_round;
      if (!logic.overlapped()) logic.Start(latest_->anchor);
    }
    if (logic.overlapped()) {
      // Pull toward the newest anchor that has arrived; it answers the
      // previous round, so waiting happens only if that one is late.
      if (!WaitForAnchor(comm, round)) break;
      if (resync_) {
        resync_ = false;
        round = latest_->next_round;
      }
      Push(comm, round, steps, loss, logic.Contribution(latest_->anchor));
    } else {
      Push(comm, round, steps, loss, logic.Contribution({}));
      if (!WaitForAnchor(comm, round + 1)) break;
      if (resync_) {
        resync_ = false;
        round = latest_->next_round;
        logic.Start(latest_->anchor);
        continue;
      }
      logic.FinishRound(latest_->anchor);
    }
    ++round;
    ++result_.rounds;
  }
  if (stop_requested_.load()) {
    comm.LeaveOnStop();
    end_reason_ = "stopped by signal";
  }
  if (!end_status_.ok()) return end_status_;
  result_.end_reason = end_reason_;
  return result_;
}

bool Worker::WaitForAnchor(Communicator& comm, uint64_t needed_round) {
  const Clock::time_point start = Clock::now();
  bool waited = false;
  while (latest_ == nullptr ||
         (latest_->next_round < needed_round && !resync_)) {
    if (stop_requested_.load()) return false;
    waited = true;
    std::unique_ptr<Delivery> delivery =
        comm.Receive(std::chrono::milliseconds(100));
    if (delivery != nullptr && !Apply(std::move(delivery))) return false;
  }
  const double wait = waited ? Seconds(Clock::now() - start).count() : 0.0;
  result_.sync_wait_seconds += wait;
  metrics_.sync_wait.Observe(wait);
  return true;
}

bool Worker::DrainDeliveries(Communicator& comm) {
  while (std::unique_ptr<Delivery> delivery =
             comm.Receive(std::chrono::milliseconds(0))) {
    if (!Apply(std::move(delivery))) return false;
  }
  return true;
}

bool Worker::Apply(std::unique_ptr<Delivery> delivery) {
  switch (delivery->kind) {
    case Delivery::Kind::kDone:
      end_reason_ = "server done: " + delivery->text;
      LOG_INFO("server says done at anchor v%llu (%s)",
               static_cast<unsigned long long>(delivery->version),
               delivery->text.c_str());
      return false;
    case Delivery::Kind::kFatal:
      end_status_ = Status::Unavailable(delivery->text);
      return false;
    case Delivery::Kind::kWelcome:
      if (latest_ != nullptr) resync_ = true;
      latest_ = std::move(delivery);
      return true;
    case Delivery::Kind::kAnchor:
      if (latest_ == nullptr || delivery->version >= latest_->version ||
          delivery->next_round > latest_->next_round) {
        latest_ = std::move(delivery);
      }
      return true;
  }
  return true;
}

void Worker::Push(Communicator& comm, uint64_t round, int local_steps,
                  double loss, std::span<const float> contribution) {
  auto push = std::make_unique<OutgoingPush>();
  push->base_version = latest_->version;
  push->round = round;
  push->samples = samples_since_push_;
  push->local_steps = static_cast<uint64_t>(local_steps);
  push->train_loss = static_cast<float>(loss);
  push->compute_seconds = result_.compute_seconds;
  push->sync_wait_seconds = result_.sync_wait_seconds;
  push->contribution.assign(contribution.begin(), contribution.end());
  push->base = latest_;
  samples_since_push_ = 0;
  comm.SendPush(std::move(push));
}

}  // namespace anchorage::worker
