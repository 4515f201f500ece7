#include "server/server.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "common/algo/algorithm.h"
#include "common/algo/push_codec.h"
#include "common/base/log.h"
#include "common/io/json.h"
#include "common/service/startup.h"
#include "common/tensor/tensor.h"
#include "common/transport/socket.h"

namespace anchorage::server {
namespace {

using Seconds = std::chrono::duration<double>;

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string BodyName(proto::Body body) {
  return proto::EnumNameBody(body);
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Create(
    const config::RunConfig& config, zmq::context_t* context,
    prometheus::Registry* registry) {
  StatusOr<data::TrainTest> data = data::LoadDataset(
      config.train.dataset, config.train.data_dir, config.train.seed);
  if (!data.ok()) return data.status();
  StatusOr<std::unique_ptr<model::Model>> model = model::MakeModel(
      config.train.model, data->train.dim(), data->train.num_classes);
  if (!model.ok()) return model.status();
  std::vector<float> initial(static_cast<size_t>((*model)->dim()));
  (*model)->Initialize(config.train.seed, initial);
  // The push decoder; its options must fit the model's dimension (a
  // sketch's cells).
  StatusOr<std::unique_ptr<codec::Codec>> codec =
      codec::MakeCodec(config.train.codec, (*model)->dim(),
                       config.train.CodecSettings(
                           0, config.train.PlannedPushes(data->train.size())));
  if (!codec.ok()) return codec.status();
  std::unique_ptr<Server> server(new Server(
      config, context, registry, std::move(data).value(),
      std::move(model).value(), std::move(codec).value(), std::move(initial)));
  Status status = server->Bind();
  if (!status.ok()) return status;
  return server;
}

Server::Server(const config::RunConfig& config, zmq::context_t* context,
               prometheus::Registry* registry, data::TrainTest data,
               std::unique_ptr<model::Model> model,
               std::unique_ptr<codec::Codec> codec, std::vector<float> initial)
    : config_(config),
      algorithm_(config.train.algorithm),
      aggregation_(config.server.ResolvedAggregation(config.train)),
      context_(context),
      metrics_(*registry, std::string(algo::AlgorithmName(algorithm_)),
               config.train.codec),
      data_(std::move(data)),
      model_(std::move(model)),
      aggregator_(config::AggregatorSettings(config), initial),
      schedule_(config.train.LocalOptimizer(
          config.train.StepsPerEpoch(data_.train.size()))),
      codec_(std::move(codec)),
      anchor_codec_(static_cast<int64_t>(initial.size())),
      relative_pushes_(algo::PushIsRelative(algorithm_, *codec_)),
      sketch_step_(algo::SketchStep::For(*codec_, relative_pushes_,
                                         config.train.sketch_momentum)),
      decoded_(initial.size()) {
  StatusOr<std::unique_ptr<model::Model>> eval_model = model::MakeModel(
      config.train.model, data_.test.dim(), data_.test.num_classes);
  evaluator_ =
      std::make_unique<Evaluator>(*context_, std::move(eval_model).value(),
                                  &data_.test, config.server.eval_examples);
}

Server::~Server() = default;

Status Server::Bind() {
  transport::SocketOptions options;
  // A push carries at most one dense model plus a small envelope.
  options.max_message_bytes =
      std::max<int64_t>(anchor_codec_.raw_bytes() * 2 + (1 << 20), 1 << 20);
  options.send_hwm = 1000;
  StatusOr<zmq::socket_t> router =
      transport::BindRouter(*context_, config_.server.bind, options);
  if (!router.ok()) return router.status();
  router_ = std::move(router).value();
  endpoint_ = transport::LastEndpoint(router_);
  return Status::Ok();
}

StatusOr<ServerSummary> Server::Run() {
  start_ = Clock::now();
  last_version_time_ = start_;
  round_opened_ = start_;
  next_eval_ = start_;
  const auto heartbeat =
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms);
  Clock::time_point next_heartbeat = start_ + heartbeat;
  LOG_INFO(
      "serving %s: %s, %s aggregation, %s, model %s (%lld parameters), "
      "%d workers expected",
      endpoint_.c_str(), std::string(algo::AlgorithmName(algorithm_)).c_str(),
      std::string(algo::AggregationModeName(aggregation_)).c_str(),
      std::string(data::DatasetName(config_.train.dataset)).c_str(),
      config_.train.model.c_str(), static_cast<long long>(aggregator_.dim()),
      config_.train.workers);

  std::string reason;
  while (!stop_requested_.load()) {
    const Clock::time_point now = Clock::now();
    if (RunComplete(&reason)) break;
    const auto until_heartbeat =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat -
                                                              now);
    const auto timeout =
        std::clamp(until_heartbeat, std::chrono::milliseconds(1),
                   std::chrono::milliseconds(100));
    StatusOr<std::vector<bool>> readable =
        transport::Poll({&router_, &evaluator_->socket()}, timeout);
    if (!readable.ok()) return readable.status();
    if ((*readable)[0]) HandleIncoming();
    if ((*readable)[1]) {
      if (std::optional<EvalResult> result = evaluator_->TryReceive()) {
        RecordEvaluation(*result);
      }
    }
    const Clock::time_point after = Clock::now();
    if (after >= next_heartbeat) {
      CheckHeartbeats(after);
      next_heartbeat = after + heartbeat;
    }
    if (aggregation_ == algo::AggregationMode::kSync) {
      MaybeCloseRound(after, /*deadline_passed=*/
                      after - round_opened_ >
                          Seconds(config_.server.round_deadline_seconds));
    }
    MaybeEvaluate(after);
  }
  stats_.stop_reason = stop_requested_.load() ? "stopped by signal" : reason;
  ServerSummary summary = stats_;
  Finish(&summary);
  AnswerDoneWhileDraining();
  return summary;
}

void Server::AnswerDoneWhileDraining() {
  // Workers acknowledge Done with Leave. Those whose Done was lost, or that
  // join only now, keep asking for a little while: answer each of them
  // Done so they end cleanly. Stop early once every worker has left.
  const auto linger = std::clamp<Clock::duration>(
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms) * 4,
      std::chrono::milliseconds(200), std::chrono::seconds(2));
  const Clock::time_point until = Clock::now() + linger;
  while (Clock::now() < until && LiveWorkers() > 0) {
    StatusOr<std::vector<bool>> readable =
        transport::Poll({&router_}, std::chrono::milliseconds(20));
    if (!readable.ok() || !(*readable)[0]) continue;
    StatusOr<std::optional<std::vector<zmq::message_t>>> frames =
        transport::ReceiveFrames(router_, transport::kMaxPayloadFrames + 2);
    if (!frames.ok() || !frames->has_value()) continue;
    std::vector<zmq::message_t>& parts = **frames;
    const std::string routing_id = parts.front().to_string();
    parts.erase(parts.begin());
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(parts), &reason);
    if (!message.ok() ||
        message->worker_id() >= static_cast<uint32_t>(config_.train.workers)) {
      continue;
    }
    WorkerState& worker = workers_[message->worker_id()];
    if (message->kind() == proto::Body::Leave) {
      worker.live = false;
      continue;
    }
    worker.routing_id = routing_id;
    SendDone(message->worker_id(), worker, stats_.stop_reason);
  }
}

void Server::HandleIncoming() {
  // Drain what is waiting, bounded so timers still run under a flood.
  for (int i = 0; i < 256; ++i) {
    StatusOr<std::optional<std::vector<zmq::message_t>>> frames =
        transport::ReceiveFrames(router_, transport::kMaxPayloadFrames + 2);
    if (!frames.ok()) {
      metrics_.Reject("frames");
      ++stats_.rejected_messages;
      LOG_WARNING("rejected message: %s", frames.status().ToString().c_str());
      continue;
    }
    if (!frames->has_value()) return;
    std::vector<zmq::message_t>& parts = **frames;
    std::string routing_id = parts.front().to_string();
    size_t bytes = 0;
    for (const zmq::message_t& part : parts)
      bytes += part.size();
    metrics_.bytes_rx.Increment(static_cast<double>(bytes));
    stats_.bytes_up += static_cast<int64_t>(bytes);
    parts.erase(parts.begin());
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(parts), &reason);
    if (!message.ok()) {
      Reject(routing_id, 0, reason, proto::ErrorCode::BadMessage,
             message.status());
      continue;
    }
    Dispatch(routing_id, std::move(message).value());
  }
}

void Server::Dispatch(const std::string& routing_id,
                      transport::Message message) {
  const uint32_t id = message.worker_id();
  if (message.kind() == proto::Body::Join) {
    HandleJoin(routing_id, message);
    return;
  }
  auto it = workers_.find(id);
  if (it == workers_.end() || !it->second.live ||
      it->second.routing_id != routing_id) {
    Reject(routing_id, id, "unknown_worker", proto::ErrorCode::UnknownWorker,
           Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " sent " + BodyName(message.kind()) +
                                      " before joining"));
    return;
  }
  it->second.last_seen = Clock::now();
  switch (message.kind()) {
    case proto::Body::Push:
      HandlePush(routing_id, message);
      return;
    case proto::Body::Values:
      HandleValues(routing_id, message);
      return;
    case proto::Body::Heartbeat:
      return;
    case proto::Body::Leave: {
      const proto::Leave* leave = message.envelope().body_as_Leave();
      HandleLeave(id,
                  leave->reason() != nullptr ? leave->reason()->str() : "left");
      return;
    }
    default:
      Reject(routing_id, id, "unexpected", proto::ErrorCode::BadMessage,
             Status::InvalidArgument("workers do not send " +
                                     BodyName(message.kind())));
  }
}

void Server::HandleJoin(const std::string& routing_id,
                        const transport::Message& message) {
  const uint32_t id = message.worker_id();
  const proto::Join* join = message.envelope().body_as_Join();
  const std::string algorithm =
      join->algorithm() != nullptr ? join->algorithm()->str() : "";
  const std::string codec =
      join->codec() != nullptr ? join->codec()->str() : "";
  if (id >= static_cast<uint32_t>(config_.train.workers)) {
    Reject(routing_id, id, "unknown_worker", proto::ErrorCode::UnknownWorker,
           Status::InvalidArgument(
               "worker id " + std::to_string(id) + " is outside [0, " +
               std::to_string(config_.train.workers) + ")"));
    return;
  }
  if (static_cast<int64_t>(join->model_dim()) != aggregator_.dim()) {
    Reject(routing_id, id, "dimension", proto::ErrorCode::WrongDimension,
           Status::InvalidArgument("worker " + std::to_string(id) +
                                   " has a model of " +
                                   std::to_string(join->model_dim()) +
                                   " parameters, the server's has " +
                                   std::to_string(aggregator_.dim())));
    return;
  }
  const std::string_view own_algorithm = algo::AlgorithmName(algorithm_);
  if (algorithm != own_algorithm) {
    Reject(routing_id, id, "algorithm", proto::ErrorCode::WrongAlgorithm,
           Status::InvalidArgument("worker " + std::to_string(id) + " runs " +
                                   algorithm + ", the server " +
                                   std::string(own_algorithm)));
    return;
  }
  if (codec != config_.train.codec) {
    Reject(
        routing_id, id, "codec", proto::ErrorCode::WrongCodec,
        Status::InvalidArgument("worker " + std::to_string(id) + " uses " +
                                codec + ", the server " + config_.train.codec));
    return;
  }
  const std::string settings =
      join->codec_settings() != nullptr ? join->codec_settings()->str() : "";
  if (settings != codec_->settings()) {
    Reject(routing_id, id, "codec", proto::ErrorCode::WrongCodec,
           Status::InvalidArgument(
               "worker " + std::to_string(id) + "'s " + codec + " is a " +
               settings + "; the server's a " + codec_->settings() +
               " (give both the same --topk, --sketch-* and --seed)"));
    return;
  }
  WorkerState& worker = workers_[id];
  const bool rejoin = worker.live;
  worker.routing_id = routing_id;
  worker.incarnation = join->incarnation();
  worker.last_seen = Clock::now();
  if (!worker.live) {
    worker.live = true;
    if (!aggregator_.HasWorker(id)) {
      Status status = aggregator_.AddWorker(id);
      ANCHORAGE_CHECK(status.ok(), "AddWorker of an absent worker failed");
    }
    auto lost =
        std::find(stats_.lost_workers.begin(), stats_.lost_workers.end(), id);
    if (lost != stats_.lost_workers.end()) stats_.lost_workers.erase(lost);
  }
  if (aggregation_ == algo::AggregationMode::kSync) {
    worker.next_round = aggregator_.round();
  }
  metrics_.workers_connected.Set(LiveWorkers());
  LOG_INFO("worker %u %s (incarnation %llu, %d/%d live)", id,
           rejoin ? "rejoined" : "joined",
           static_cast<unsigned long long>(worker.incarnation), LiveWorkers(),
           config_.train.workers);
  SendWelcome(id, worker);
}

void Server::HandlePush(const std::string& routing_id,
                        const transport::Message& message) {
  const uint32_t id = message.worker_id();
  WorkerState& worker = workers_[id];
  const proto::Push* push = message.envelope().body_as_Push();
  const std::string codec =
      push->codec() != nullptr ? push->codec()->str() : "";
  if (codec != codec_->name()) {
    RejectPush(
        routing_id, id, "codec", proto::ErrorCode::WrongCodec,
        Status::InvalidArgument("push encoded with '" + codec + "', expected " +
                                std::string(codec_->name())));
    return;
  }
  if (message.num_payloads() != 1) {
    RejectPush(routing_id, id, "payload", proto::ErrorCode::BadMessage,
               Status::InvalidArgument("push has " +
                                       std::to_string(message.num_payloads()) +
                                       " payload frames, expected 1"));
    return;
  }
  const std::vector<float>* base = nullptr;
  if (relative_pushes_) {
    base = FindBase(worker, push->base_version());
    if (base == nullptr) {
      RejectPush(routing_id, id, "base_version", proto::ErrorCode::BadMessage,
                 Status::InvalidArgument(
                     "push is relative to anchor v" +
                     std::to_string(push->base_version()) +
                     ", which was not among the last anchors sent to worker " +
                     std::to_string(id)));
      return;
    }
  }
  const std::span<const float> base_values = base != nullptr
                                                 ? std::span<const float>(*base)
                                                 : std::span<const float>();
  Status status;
  if (sketch_step_ != nullptr) {
    if (querying_) {
      // The round is in its second round; closing it answers this worker.
      metrics_.pushes_stale.Increment();
      ++stats_.pushes_stale;
      return;
    }
    // Only a push the open round accepts joins its sketch sum.
    if (push->round() == aggregator_.round() && !aggregator_.HasPending(id)) {
      status = sketch_step_->AddSketch(message.payload(0));
    }
    sketch_step_->Placeholder(base_values, decoded_);
  } else {
    status = algo::DecodePush(*codec_, relative_pushes_, base_values,
                              message.payload(0), decoded_);
  }
  if (!status.ok()) {
    RejectPush(routing_id, id, "decode", proto::ErrorCode::BadMessage, status);
    return;
  }
  if (!AsVector(std::span<const float>(decoded_)).allFinite()) {
    RejectPush(
        routing_id, id, "non_finite", proto::ErrorCode::BadMessage,
        Status::InvalidArgument("push from worker " + std::to_string(id) +
                                " holds NaN or infinite values"));
    return;
  }

  // Worker statistics travel with every push, accepted or stale.
  samples_ += static_cast<int64_t>(push->samples());
  metrics_.samples.Increment(static_cast<double>(push->samples()));
  metrics_.epoch.Set(static_cast<double>(samples_) /
                     static_cast<double>(data_.train.size()));
  worker.compute_seconds = push->compute_seconds();
  worker.encode_seconds = push->encode_seconds();
  worker.sync_wait_seconds = push->sync_wait_seconds();
  if (push->local_steps() > 0) {
    worker.train_loss = push->train_loss();
    worker.has_loss = true;
  }

  stats_.raw_bytes_up += codec_->raw_bytes();
  const Clock::time_point now = Clock::now();
  const uint64_t version_before = aggregator_.version();
  if (aggregation_ == algo::AggregationMode::kAsync) {
    aggregator_.set_learning_rate(LearningRateOfRound(push->round()));
  }
  status = aggregator_.Submit(id, push->round(), &decoded_);
  if (status.code() == Status::Code::kFailedPrecondition) {
    // Sync mode: the round this push belongs to already closed.
    metrics_.pushes_stale.Increment();
    ++stats_.pushes_stale;
    worker.next_round = aggregator_.round();
    SendAnchor(id, worker, aggregator_.round(), push->sent_unix_ns());
    return;
  }
  ANCHORAGE_CHECK(status.ok(), "Submit of a verified push failed");
  metrics_.pushes_applied.Increment();
  ++stats_.pushes_applied;
  const double staleness =
      static_cast<double>(version_before) -
      static_cast<double>(std::min(push->base_version(), version_before));
  metrics_.staleness.Observe(staleness);
  staleness_sum_ += staleness;
  const double delay =
      std::max<double>(
          0.0, static_cast<double>(UnixNanos() - push->sent_unix_ns())) *
      1e-9;
  metrics_.push_delay.Observe(delay);

  if (aggregation_ == algo::AggregationMode::kAsync) {
    metrics_.round_duration.Observe(Seconds(now - last_version_time_).count());
    last_version_time_ = now;
    metrics_.anchor_version.Set(static_cast<double>(aggregator_.version()));
    worker.next_round = push->round() + 1;
    SendAnchor(id, worker, worker.next_round, push->sent_unix_ns());
    return;
  }
  if (aggregator_.pending() == 1) first_in_round_ = now;
  MaybeCloseRound(now, /*deadline_passed=*/false);
}

void Server::HandleLeave(uint32_t id, const std::string& reason) {
  WorkerState& worker = workers_[id];
  worker.live = false;
  Status status = aggregator_.RemoveWorker(id);
  (void)status;  // NotFound only if it was never added; nothing to undo.
  metrics_.workers_connected.Set(LiveWorkers());
  LOG_INFO("worker %u left: %s (%d live)", id, reason.c_str(), LiveWorkers());
  if (aggregation_ == algo::AggregationMode::kSync) {
    MaybeCloseRound(Clock::now(), false);
  }
}

void Server::Reject(const std::string& routing_id, uint32_t worker_id,
                    const std::string& reason, proto::ErrorCode code,
                    const Status& status) {
  metrics_.Reject(reason);
  ++stats_.rejected_messages;
  LOG_WARNING("rejected message from %s (%s): %s",
              worker_id != 0 || !routing_id.empty()
                  ? ("worker " + std::to_string(worker_id)).c_str()
                  : "unknown peer",
              reason.c_str(), status.message().c_str());
  SendError(routing_id, worker_id, code, status.message());
}

void Server::RejectPush(const std::string& routing_id, uint32_t worker_id,
                        const std::string& reason, proto::ErrorCode code,
                        const Status& status) {
  metrics_.pushes_rejected.Increment();
  ++stats_.pushes_rejected;
  Reject(routing_id, worker_id, reason, code, status);
}

void Server::CheckHeartbeats(Clock::time_point now) {
  const auto interval =
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms);
  const auto limit = interval * config_.server.heartbeat_liveness;
  for (auto& [id, worker] : workers_) {
    if (!worker.live) continue;
    if (now - worker.last_seen > limit) {
      worker.live = false;
      Status status = aggregator_.RemoveWorker(id);
      (void)status;  // a live worker is always registered
      metrics_.workers_lost.Increment();
      stats_.lost_workers.push_back(id);
      metrics_.workers_connected.Set(LiveWorkers());
      LOG_WARNING("worker %u lost: silent for %.1f s (%d live)", id,
                  Seconds(now - worker.last_seen).count(), LiveWorkers());
      continue;
    }
    if (now - worker.last_sent >= interval) {
      SendHeartbeat(id, worker);
    }
  }
  if (aggregation_ == algo::AggregationMode::kSync) MaybeCloseRound(now, false);
}

void Server::MaybeCloseRound(Clock::time_point now, bool deadline_passed) {
  if (querying_) {
    bool answered = true;
    for (uint32_t id : awaiting_values_) {
      if (workers_[id].live) answered = false;
    }
    if (answered || deadline_passed) CloseRound(now);
    return;
  }
  const int live = LiveWorkers();
  const int pending = aggregator_.pending();
  if (pending == 0) {
    if (deadline_passed) round_opened_ = now;
    return;
  }
  // Round 0 waits for every expected worker; later rounds for the live ones,
  // so a lost worker does not stall the rest.
  bool all_in = aggregator_.round() > 0 || live >= config_.train.workers;
  for (const auto& [id, worker] : workers_) {
    if (worker.live && !aggregator_.HasPending(id)) all_in = false;
  }
  const bool quorum =
      pending >= static_cast<int>(std::ceil(config_.server.quorum * live));
  if (!all_in && !(deadline_passed && quorum)) return;
  if (sketch_step_ != nullptr && sketch_step_->asks_exact_values()) {
    StartQuery(now);
  } else {
    CloseRound(now);
  }
}

void Server::StartQuery(Clock::time_point now) {
  const std::vector<uint32_t>& candidates = sketch_step_->Candidates();
  auto bytes = std::make_shared<transport::SharedSendBuffer>();
  bytes->bytes().resize(candidates.size() * sizeof(uint32_t));
  std::memcpy(bytes->bytes().data(), candidates.data(), bytes->bytes().size());
  querying_ = true;
  round_opened_ = now;  // the second round gets its own deadline
  for (auto& [id, worker] : workers_) {
    if (!worker.live || !aggregator_.HasPending(id)) continue;
    auto& fbb = builder_.builder();
    const auto body = proto::CreateQuery(fbb, aggregator_.round());
    std::vector<zmq::message_t> frames;
    frames.emplace_back(worker.routing_id);
    frames.push_back(builder_.Finish(id, proto::Body::Query, body.Union(), 1));
    frames.push_back(transport::FrameFromShared(bytes));
    worker.last_sent = now;
    Send(worker.routing_id, std::move(frames));
    awaiting_values_.insert(id);
  }
  MaybeCloseRound(now, false);
}

void Server::HandleValues(const std::string& routing_id,
                          const transport::Message& message) {
  const uint32_t id = message.worker_id();
  const uint64_t round = message.envelope().body_as_Values()->round();
  if (!querying_ || round != aggregator_.round() ||
      awaiting_values_.erase(id) == 0) {
    Reject(routing_id, id, "unexpected", proto::ErrorCode::BadMessage,
           Status::InvalidArgument("values for round " + std::to_string(round) +
                                   " that the server did not ask for"));
    return;
  }
  Status status = message.num_payloads() == 1
                      ? sketch_step_->AddExact(message.payload(0))
                      : Status::DataLoss("values without a payload frame");
  if (status.ok()) {
    values_used_.insert(id);
  } else {
    Reject(routing_id, id, "decode", proto::ErrorCode::BadMessage, status);
  }
  MaybeCloseRound(Clock::now(), false);
}

double Server::LearningRateOfRound(uint64_t round) const {
  return optim::ScheduledLearningRate(
      schedule_, static_cast<int64_t>(round) * config_.train.local_steps);
}

void Server::CloseRound(Clock::time_point now) {
  metrics_.straggler_wait.Observe(Seconds(now - first_in_round_).count());
  aggregator_.set_learning_rate(LearningRateOfRound(aggregator_.round()));
  const std::vector<uint32_t>* applied = nullptr;
  if (sketch_step_ != nullptr && aggregator_.pending() > 0) {
    applied = &sketch_step_->Finish(&aggregator_);
  }
  aggregator_.CloseRound();
  metrics_.round_duration.Observe(Seconds(now - last_version_time_).count());
  last_version_time_ = now;
  round_opened_ = now;
  metrics_.anchor_version.Set(static_cast<double>(aggregator_.version()));
  for (auto& [id, worker] : workers_) {
    if (!worker.live) continue;
    worker.next_round = aggregator_.round();
    SendAnchor(id, worker, aggregator_.round(), 0,
               values_used_.contains(id) ? applied : nullptr);
  }
  if (sketch_step_ != nullptr) {
    sketch_step_->Begin();
    querying_ = false;
    awaiting_values_.clear();
    values_used_.clear();
  }
}

void Server::MaybeEvaluate(Clock::time_point now) {
  if (config_.server.eval_interval_seconds <= 0 || now < next_eval_) return;
  if (aggregator_.version() == last_evaluated_version_) return;
  if (evaluator_->Submit(aggregator_.version(), aggregator_.anchor())) {
    last_evaluated_version_ = aggregator_.version();
    next_eval_ = now + std::chrono::duration_cast<Clock::duration>(
                           Seconds(config_.server.eval_interval_seconds));
  }
}

void Server::RecordEvaluation(const EvalResult& result) {
  metrics_.eval_accuracy.Set(result.evaluation.accuracy);
  metrics_.eval_loss.Set(result.evaluation.loss);
  stats_.evaluations.push_back({Seconds(Clock::now() - start_).count(),
                                result.version, result.evaluation.accuracy,
                                result.evaluation.loss});
  LOG_INFO(
      "anchor v%llu: test accuracy %.4f, loss %.4f, epoch %.2f",
      static_cast<unsigned long long>(result.version),
      result.evaluation.accuracy, result.evaluation.loss,
      static_cast<double>(samples_) / static_cast<double>(data_.train.size()));
}

bool Server::RunComplete(std::string* reason) const {
  const double epochs =
      static_cast<double>(samples_) / static_cast<double>(data_.train.size());
  if (config_.train.epochs > 0 && epochs >= config_.train.epochs) {
    *reason = "reached " + std::to_string(config_.train.epochs) + " epochs";
    return true;
  }
  if (config_.train.max_versions > 0 &&
      aggregator_.version() >=
          static_cast<uint64_t>(config_.train.max_versions)) {
    *reason = "reached " + std::to_string(config_.train.max_versions) +
              " anchor versions";
    return true;
  }
  return false;
}

void Server::Finish(ServerSummary* summary) {
  const model::Evaluation final_eval =
      EvaluateOn(*model_, data_.test, aggregator_.anchor());
  metrics_.eval_accuracy.Set(final_eval.accuracy);
  metrics_.eval_loss.Set(final_eval.loss);
  for (auto& [id, worker] : workers_) {
    if (worker.live) SendDone(id, worker, summary->stop_reason);
  }
  summary->anchor_version = aggregator_.version();
  summary->test_accuracy = final_eval.accuracy;
  summary->test_loss = final_eval.loss;
  summary->wall_seconds = Seconds(Clock::now() - start_).count();
  summary->samples = samples_;
  summary->epochs =
      static_cast<double>(samples_) / static_cast<double>(data_.train.size());
  summary->evaluations.push_back({summary->wall_seconds, aggregator_.version(),
                                  final_eval.accuracy, final_eval.loss});
  summary->staleness_mean =
      summary->pushes_applied > 0
          ? staleness_sum_ / static_cast<double>(summary->pushes_applied)
          : 0.0;
  double compute = 0;
  double encode = 0;
  double wait = 0;
  double loss = 0;
  int reporting = 0;
  int with_loss = 0;
  for (const auto& [id, worker] : workers_) {
    if (worker.incarnation == 0 && worker.compute_seconds == 0) continue;
    compute += worker.compute_seconds;
    encode += worker.encode_seconds;
    wait += worker.sync_wait_seconds;
    ++reporting;
    if (worker.has_loss) {
      loss += worker.train_loss;
      ++with_loss;
    }
  }
  if (reporting > 0) {
    summary->compute_seconds_mean = compute / reporting;
    summary->encode_seconds_mean = encode / reporting;
    summary->sync_wait_seconds_mean = wait / reporting;
  }
  if (with_loss > 0) summary->train_loss = loss / with_loss;
  summary->bytes_up = stats_.bytes_up;
  summary->bytes_down = stats_.bytes_down;
  LOG_INFO("done (%s): anchor v%llu, test accuracy %.4f, %.1f s",
           summary->stop_reason.c_str(),
           static_cast<unsigned long long>(summary->anchor_version),
           summary->test_accuracy, summary->wall_seconds);
}

zmq::message_t Server::AnchorFrame() {
  if (anchor_bytes_ == nullptr ||
      anchor_bytes_version_ != aggregator_.version()) {
    // Reuse the buffer unless frames still in flight hold it.
    if (anchor_bytes_ == nullptr || anchor_bytes_->InFlight()) {
      anchor_bytes_ = std::make_shared<transport::SharedSendBuffer>();
    }
    Status status =
        anchor_codec_.Encode(aggregator_.anchor(), &anchor_bytes_->bytes());
    ANCHORAGE_CHECK(status.ok(), "encoding the anchor failed");
    anchor_bytes_version_ = aggregator_.version();
  }
  return transport::FrameFromShared(anchor_bytes_);
}

void Server::RecordBase(WorkerState& worker) {
  if (!relative_pushes_) return;
  if (anchor_values_.version != aggregator_.version()) {
    const std::span<const float> anchor = aggregator_.anchor();
    anchor_values_ = {aggregator_.version(),
                      std::make_shared<const std::vector<float>>(anchor.begin(),
                                                                 anchor.end())};
  }
  if (worker.bases[0].version == anchor_values_.version) return;
  worker.bases[1] = std::move(worker.bases[0]);
  worker.bases[0] = anchor_values_;
}

const std::vector<float>* Server::FindBase(const WorkerState& worker,
                                           uint64_t version) const {
  for (const WorkerState::Base& base : worker.bases) {
    if (base.values != nullptr && base.version == version) return &*base.values;
  }
  return nullptr;
}

void Server::SendAnchor(uint32_t id, WorkerState& worker, uint64_t next_round,
                        int64_t push_sent_unix_ns,
                        const std::vector<uint32_t>* applied) {
  auto& fbb = builder_.builder();
  const auto body = proto::CreateAnchorDirect(
      fbb, aggregator_.version(), next_round,
      std::string(anchor_codec_.name()).c_str(), push_sent_unix_ns);
  std::vector<zmq::message_t> frames;
  frames.emplace_back(worker.routing_id);
  frames.push_back(builder_.Finish(id, proto::Body::Anchor, body.Union(),
                                   applied != nullptr ? 2 : 1));
  frames.push_back(AnchorFrame());
  if (applied != nullptr) {
    frames.emplace_back(applied->data(), applied->size() * sizeof(uint32_t));
  }
  RecordBase(worker);
  worker.last_sent = Clock::now();
  Send(worker.routing_id, std::move(frames));
}

void Server::SendWelcome(uint32_t id, WorkerState& worker) {
  auto& fbb = builder_.builder();
  const auto body =
      proto::CreateWelcomeDirect(fbb, aggregator_.version(), worker.next_round,
                                 std::string(anchor_codec_.name()).c_str(),
                                 static_cast<uint32_t>(config_.train.workers));
  std::vector<zmq::message_t> frames;
  frames.emplace_back(worker.routing_id);
  frames.push_back(builder_.Finish(id, proto::Body::Welcome, body.Union(), 1));
  frames.push_back(AnchorFrame());
  RecordBase(worker);
  worker.last_sent = Clock::now();
  Send(worker.routing_id, std::move(frames));
}

void Server::SendHeartbeat(uint32_t id, WorkerState& worker) {
  auto& fbb = builder_.builder();
  const auto body = proto::CreateHeartbeat(fbb);
  std::vector<zmq::message_t> frames;
  frames.emplace_back(worker.routing_id);
  frames.push_back(
      builder_.Finish(id, proto::Body::Heartbeat, body.Union(), 0));
  worker.last_sent = Clock::now();
  Send(worker.routing_id, std::move(frames));
}

void Server::SendError(const std::string& routing_id, uint32_t worker_id,
                       proto::ErrorCode code, const std::string& text) {
  auto& fbb = builder_.builder();
  const auto body = proto::CreateErrorDirect(fbb, code, text.c_str());
  std::vector<zmq::message_t> frames;
  frames.emplace_back(routing_id);
  frames.push_back(
      builder_.Finish(worker_id, proto::Body::Error, body.Union(), 0));
  Send(routing_id, std::move(frames));
}

void Server::SendDone(uint32_t id, WorkerState& worker,
                      const std::string& reason) {
  auto& fbb = builder_.builder();
  const auto body =
      proto::CreateDoneDirect(fbb, aggregator_.version(), reason.c_str());
  std::vector<zmq::message_t> frames;
  frames.emplace_back(worker.routing_id);
  frames.push_back(builder_.Finish(id, proto::Body::Done, body.Union(), 0));
  Send(worker.routing_id, std::move(frames));
}

void Server::Send(const std::string& routing_id,
                  std::vector<zmq::message_t> frames) {
  size_t bytes = 0;
  for (size_t i = 1; i < frames.size(); ++i)
    bytes += frames[i].size();
  Status status = transport::SendFrames(router_, std::move(frames));
  if (!status.ok()) {
    LOG_DEBUG("send to %s failed: %s", routing_id.c_str(),
              status.ToString().c_str());
    return;
  }
  metrics_.bytes_tx.Increment(static_cast<double>(bytes));
  stats_.bytes_down += static_cast<int64_t>(bytes);
}

int Server::LiveWorkers() const {
  int live = 0;
  for (const auto& [id, worker] : workers_)
    live += worker.live ? 1 : 0;
  return live;
}

Status WriteSummaryJson(const std::string& path,
                        const config::RunConfig& config,
                        const ServerSummary& summary) {
  std::string lost = "[";
  for (size_t i = 0; i < summary.lost_workers.size(); ++i) {
    if (i > 0) lost += ", ";
    lost += std::to_string(summary.lost_workers[i]);
  }
  lost += "]";
  std::string evaluations = "[";
  for (size_t i = 0; i < summary.evaluations.size(); ++i) {
    const ServerSummary::Point& p = summary.evaluations[i];
    if (i > 0) evaluations += ", ";
    char text[160];
    std::snprintf(text, sizeof(text),
                  "{\"seconds\": %.3f, \"version\": %llu, \"accuracy\": %.6f, "
                  "\"loss\": %.6f}",
                  p.seconds, static_cast<unsigned long long>(p.version),
                  p.accuracy, p.loss);
    evaluations += text;
  }
  evaluations += "]";
  io::JsonObject json;
  json.Add("algorithm",
           std::string(algo::AlgorithmName(config.train.algorithm)))
      .Add("aggregation",
           std::string(algo::AggregationModeName(
               config.server.ResolvedAggregation(config.train))));
  service::AddRunSettings(config, &json);
  json.Add("anchor_version", summary.anchor_version)
      .Add("test_accuracy", summary.test_accuracy)
      .Add("test_loss", summary.test_loss)
      .Add("train_loss", summary.train_loss)
      .Add("wall_seconds", summary.wall_seconds)
      .Add("epochs", summary.epochs)
      .Add("samples", summary.samples);
  service::AddTraffic(summary.bytes_up, summary.bytes_down,
                      summary.raw_bytes_up, &json);
  json.Add("pushes_applied", summary.pushes_applied)
      .Add("pushes_rejected", summary.pushes_rejected)
      .Add("pushes_stale", summary.pushes_stale)
      .Add("rejected_messages", summary.rejected_messages)
      .Add("staleness_mean", summary.staleness_mean)
      .Add("sync_wait_seconds_mean", summary.sync_wait_seconds_mean)
      .Add("compute_seconds_mean", summary.compute_seconds_mean)
      .Add("encode_seconds_mean", summary.encode_seconds_mean)
      .AddRaw("lost_workers", lost)
      .Add("stop_reason", summary.stop_reason)
      .AddRaw("evaluations", evaluations);
  return io::WriteFileAtomically(path, json.ToString());
}

}  // namespace anchorage::server
