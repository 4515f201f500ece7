#include "server/server.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>
#include <variant>

#include "common/algo/model_slice.h"
#include "common/algo/push_codec.h"
#include "common/base/format.h"
#include "common/base/log.h"
#include "common/config/flags.h"
#include "common/config/round_settings.h"
#include "common/config/train_data.h"
#include "common/transport/curve.h"
#include "common/transport/socket.h"
#include "server/memory_bound.h"

namespace anchorage::server {
namespace {

using Seconds = std::chrono::duration<double>;

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Create(
    const config::RunConfig& config, zmq::context_t* context,
    prometheus::Registry* registry) {
  // The run starts now: its start-up counts from here.
  const int64_t started_unix_ns = UnixNanos();
  // The server evaluates on the test split; of the training split it
  // needs only the size.
  StatusOr<config::EvaluationData> data =
      config::LoadEvaluationData(config.train);
  if (!data.ok()) return data.status();
  StatusOr<std::unique_ptr<model::Model>> model = model::MakeModel(
      config.train.model, data->test.dim(), data->test.num_classes);
  if (!model.ok()) return model.status();
  std::vector<float> initial(static_cast<size_t>((*model)->dim()));
  (*model)->Initialize(config.train.seed, initial);
  // A shard holds its slice of the model, and its round core knows only
  // that slice.
  const int shards = config.server.shards;
  if (shards > (*model)->dim()) {
    return Status::InvalidArgument(
        "--shards " + std::to_string(shards) + " exceeds the model's " +
        std::to_string((*model)->dim()) + " parameters");
  }
  const algo::ModelSlice slice =
      algo::SliceOf((*model)->dim(), shards, config.server.shard);
  initial = std::vector<float>(initial.begin() + slice.begin,
                               initial.begin() + slice.end);
  const int64_t dim = slice.size();
  const int64_t examples = data->train_size;
  const auto make_round =
      [&]() -> StatusOr<std::unique_ptr<algo::AnchorRound>> {
    // The push decoder; its options must fit the model's dimension (a
    // sketch's cells).
    StatusOr<std::unique_ptr<codec::Codec>> codec = codec::MakeCodec(
        config.train.codec, dim,
        config.CodecSettings(0, config.train.PlannedPushes(examples)));
    if (!codec.ok()) return codec.status();
    algo::AnchorRoundOptions options = config::RoundSettings(config, examples);
    options.started_unix_ns = started_unix_ns;
    return algo::AnchorRound::Create(options, initial,
                                     std::move(codec).value());
  };
  StatusOr<std::unique_ptr<algo::AnchorRound>> round = make_round();
  if (!round.ok()) return round.status();
  StatusOr<int64_t> credits = CheckMemory(config, **round, data->test);
  if (!credits.ok()) return credits.status();
  StatusOr<Resumed> resumed =
      Resume(config.server.checkpoint_dir, config::RunFingerprint(config),
             make_round, &*round);
  if (!resumed.ok()) return resumed.status();
  std::unique_ptr<Server> server(new Server(
      config, context, registry, std::move(data->test),
      std::move(model).value(), std::move(round).value(), *resumed, *credits));
  Status status = server->StartCurve();
  if (!status.ok()) return status;
  status = server->Bind();
  if (!status.ok()) return status;
  if (server->checkpointer_ != nullptr) {
    // The first checkpoint before the server is ready: it records the
    // run's id (or this restart) before anything else can be lost.
    status = server->WriteLastCheckpoint();
    if (!status.ok()) return status;
  }
  return server;
}

Server::Server(const config::RunConfig& config, zmq::context_t* context,
               prometheus::Registry* registry, data::Dataset test,
               std::unique_ptr<model::Model> model,
               std::unique_ptr<algo::AnchorRound> round, const Resumed& resumed,
               int64_t push_credits)
    : config_(config),
      context_(context),
      metrics_(*registry,
               std::string(algo::AlgorithmName(config.train.algorithm)),
               config.train.codec),
      test_(std::move(test)),
      model_(std::move(model)),
      round_(std::move(round)),
      anchor_codec_(
          codec::MakeCodec(config.server.anchor_codec, round_->dim()).value()),
      resumed_(resumed),
      start_(Clock::now()),
      credits_(push_credits,
               std::chrono::milliseconds(config.server.heartbeat_interval_ms) *
                   config.server.heartbeat_liveness) {
  if (!config_.server.checkpoint_dir.empty()) {
    checkpointer_ =
        std::make_unique<Checkpointer>(config_.server.checkpoint_dir);
    fingerprint_ = config::RunFingerprint(config_);
  }
  // A resumed run goes on counting where its checkpoint left off.
  bytes_up_ = resumed_.bytes_up;
  bytes_down_ = resumed_.bytes_down;
  rejected_messages_ = resumed_.rejected_messages;
  evaluations_ = resumed_.evaluations;
  if (!evaluations_.empty()) {
    metrics_.eval_accuracy.Set(evaluations_.back().accuracy);
    metrics_.eval_loss.Set(evaluations_.back().loss);
  }
  metrics_.restarts.Set(static_cast<double>(resumed_.restarts));
  metrics_.anchor_version.Set(static_cast<double>(round_->version()));
  metrics_.epoch.Set(round_->stats().epochs);
  metrics_.samples.Increment(static_cast<double>(round_->samples()));
  StatusOr<std::unique_ptr<model::Model>> eval_model =
      model::MakeModel(config.train.model, test_.dim(), test_.num_classes);
  evaluator_ =
      std::make_unique<Evaluator>(*context_, std::move(eval_model).value(),
                                  &test_, config.server.eval_examples);
}

Server::~Server() = default;

StatusOr<int64_t> Server::CheckMemory(const config::RunConfig& config,
                                      const algo::AnchorRound& round,
                                      const data::Dataset& test) {
  const auto data_bytes =
      static_cast<int64_t>(test.features.size() * sizeof(float) +
                           test.labels.size() * sizeof(int32_t));
  const int64_t push_bytes = round.codec().raw_bytes();
  const auto bound_of = [&](const config::RunConfig& run) {
    return ServerMemoryBound(
        run, round.dim(), push_bytes,
        algo::PushIsRelative(run.train.algorithm, round.codec()), data_bytes);
  };
  const std::optional<int64_t> limit = CgroupMemoryLimit();
  config::RunConfig resolved = config;
  MemoryBound bound = bound_of(resolved);
  if (resolved.server.push_credits == 0 && limit) {
    resolved.server.push_credits =
        AutoPushCredits(bound, push_bytes, config.train.workers, *limit);
    bound = bound_of(resolved);
  }
  const int64_t credits = resolved.server.push_credits;
  const auto megabytes = [](int64_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
  };
  const std::string what =
      megabytes(bound.total()) + " (" + std::to_string(bound.model_copies) +
      " copies of the model, " + megabytes(bound.message_bytes) +
      " of pushes in flight, " + megabytes(bound.data_bytes) + " of data)";
  if (limit && bound.total() > *limit) {
    return Status::InvalidArgument(
        "this run needs up to " + what +
        ", more than the cgroup's memory "
        "limit of " +
        megabytes(*limit) +
        "; give the server more memory, or run fewer workers or a smaller "
        "model" +
        (config.server.max_staleness == 0
             ? std::string(", or bound the kept anchors with --max-staleness")
             : std::string()));
  }
  LOG_INFO("memory: up to %s%s%s", what.c_str(),
           limit ? (" of the cgroup's " + megabytes(*limit)).c_str() : "",
           credits > 0 && credits < config.train.workers
               ? (", " + std::to_string(credits) + " pushes in flight at once")
                     .c_str()
               : "");
  return credits;
}

Status Server::StartCurve() {
  const config::SecurityOptions& security = config_.security;
  if (security.curve_secret_key.empty()) return Status::Ok();
  if (security.curve_allowed_keys.empty()) {
    return Status::InvalidArgument(
        "--curve-secret-key needs --curve-allowed-keys (the directory of the "
        "worker-<i>.pub keys to admit)");
  }
  StatusOr<std::string> secret =
      transport::ReadCurveKey(security.curve_secret_key);
  if (!secret.ok()) return secret.status();
  StatusOr<std::map<std::string, uint32_t>> allowed =
      transport::ReadAllowedKeys(security.curve_allowed_keys,
                                 config_.train.workers);
  if (!allowed.ok()) return allowed.status();
  StatusOr<std::unique_ptr<transport::ZapHandler>> zap =
      transport::ZapHandler::Start(*context_, std::move(allowed).value());
  if (!zap.ok()) return zap.status();
  zap_ = std::move(zap).value();
  curve_secret_ = std::move(secret).value();
  return Status::Ok();
}

Status Server::Bind() {
  transport::SocketOptions options;
  // A push carries at most one dense model plus a small envelope.
  options.max_message_bytes =
      std::max<int64_t>(anchor_codec_->raw_bytes() * 2 + (1 << 20), 1 << 20);
  options.send_hwm = 1000;
  // Memory per connection: at most receive_hwm whole messages wait in its
  // queue (a worker has one push or answer and a few heartbeats in flight).
  options.receive_hwm = kReceiveHwm;
  // The server never waits on a send: a peer whose queue is full loses the
  // message, and it is counted.
  options.send_timeout = std::chrono::milliseconds(0);
  options.curve_server_secret = curve_secret_;
  options.bind_retry = std::chrono::seconds(5);
  StatusOr<zmq::socket_t> router =
      transport::BindRouter(*context_, config_.server.bind, options);
  if (!router.ok()) return router.status();
  router_ = std::move(router).value();
  endpoint_ = transport::LastEndpoint(router_);
  return Status::Ok();
}

double Server::Now() const {
  return resumed_.clock_seconds + Seconds(Clock::now() - start_).count();
}

StatusOr<summary::RunSummary> Server::Run() {
  BeginServing();
  bool idle = false;
  Status status = Serve(&idle);
  if (!status.ok()) return status;
  return EndRun(idle);
}

void Server::BeginServing() {
  next_eval_ = Clock::now();
  last_live_ = next_eval_;
  next_refusal_summary_ = next_eval_ + kRefusalSummaryInterval;
  next_checkpoint_ =
      next_eval_ + std::chrono::duration_cast<Clock::duration>(
                       Seconds(config_.server.checkpoint_interval_seconds));
  // A resumed run's live workers have no connection yet: they are lost
  // unless they rejoin within the liveness window.
  for (uint32_t id = 0; id < static_cast<uint32_t>(config_.train.workers);
       ++id) {
    if (round_->IsLive(id)) peers_[id] = {.last_seen = next_eval_};
  }
  finished_ = round_->finished();
  LOG_INFO(
      "serving %s: %s, %s aggregation, %s, model %s (%lld parameters), "
      "%d workers expected",
      endpoint_.c_str(),
      std::string(algo::AlgorithmName(config_.train.algorithm)).c_str(),
      std::string(algo::AggregationModeName(
                      config_.server.ResolvedAggregation(config_.train)))
          .c_str(),
      std::string(data::DatasetName(config_.train.dataset)).c_str(),
      config_.train.model.c_str(), static_cast<long long>(round_->dim()),
      config_.train.workers);
  if (config_.server.shards > 1) {
    const algo::ModelSlice slice = algo::SliceOf(
        model_->dim(), config_.server.shards, config_.server.shard);
    LOG_INFO(
        "shard %d of %d: parameters [%lld, %lld); the anchor is evaluated "
        "where the slices are assembled, not here",
        config_.server.shard, config_.server.shards,
        static_cast<long long>(slice.begin), static_cast<long long>(slice.end));
  }
}

Status Server::Serve(bool* idle) {
  const auto heartbeat =
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms);
  Clock::time_point next_heartbeat = Clock::now() + heartbeat;
  while (!stop_requested_.load() && !finished_) {
    const auto until_heartbeat =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat -
                                                              Clock::now());
    // A held reply is due (infinity when none is): wake for it.
    const double until_reply = round_->next_deadline() - Now();
    const auto timeout = std::clamp(
        std::min(until_heartbeat,
                 std::chrono::milliseconds(static_cast<int64_t>(
                     std::ceil(std::min(until_reply, 1.0) * 1000.0)))),
        std::chrono::milliseconds(1), std::chrono::milliseconds(100));
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
    if (after >= next_refusal_summary_) {
      const std::string suppressed = refusals_.EndInterval(after);
      if (!suppressed.empty()) {
        LOG_WARNING("refused %s more messages in the last %.0f s",
                    suppressed.c_str(),
                    Seconds(kRefusalSummaryInterval).count());
      }
      next_refusal_summary_ = after + kRefusalSummaryInterval;
    }
    if (after >= next_heartbeat) {
      CheckHeartbeats(after);
      SendCredits(credits_.Expire(after));
      next_heartbeat = after + heartbeat;
    }
    Execute("", round_->OnTick(Now()));
    MaybeEvaluate(after);
    MaybeCheckpoint(after);
    if (!finished_ && IdleTooLong(after)) {
      *idle = true;
      break;
    }
  }
  return Status::Ok();
}

StatusOr<summary::RunSummary> Server::EndRun(bool idle) {
  std::string stop_reason = round_->stats().finish_reason;
  if (!finished_) {
    stop_reason = idle ? "no live worker for " +
                             FormatValue(config_.server.idle_timeout_seconds) +
                             " s"
                       : "stopped by signal";
  }
  if (idle) LOG_ERROR("%s; stopping", stop_reason.c_str());
  if (checkpointer_ != nullptr) {
    Status status = WriteLastCheckpoint();
    if (!status.ok()) return status;
  }
  // A run that will resume keeps its workers waiting for it.
  const bool tell_done = finished_ || checkpointer_ == nullptr;
  summary::RunSummary summary = Finish(stop_reason, tell_done);
  if (tell_done) AnswerDoneWhileDraining(stop_reason);
  return summary;
}

bool Server::IdleTooLong(Clock::time_point now) {
  if (round_->live_workers() > 0) {
    last_live_ = now;
    return false;
  }
  const double idle = config_.server.idle_timeout_seconds;
  return idle > 0 && Seconds(now - last_live_).count() >= idle;
}

void Server::MaybeCheckpoint(Clock::time_point now) {
  if (checkpointer_ == nullptr) return;
  if (std::optional<CheckpointWrite> write = checkpointer_->Poll()) {
    RecordCheckpoint(*write);
  }
  if (now < next_checkpoint_ || checkpointer_->busy()) return;
  checkpointer_->Start(Snapshot());
  next_checkpoint_ = now + std::chrono::duration_cast<Clock::duration>(Seconds(
                               config_.server.checkpoint_interval_seconds));
}

io::Checkpoint Server::Snapshot() {
  const Clock::time_point start = Clock::now();
  io::Checkpoint checkpoint{.version = round_->version(),
                            .run_id = resumed_.run_id,
                            .restarts = resumed_.restarts,
                            .clock_seconds = Now(),
                            .bytes_up = bytes_up_,
                            .bytes_down = bytes_down_,
                            .rejected_messages = rejected_messages_,
                            .evaluations = EvaluationNumbers(evaluations_),
                            .fingerprint = fingerprint_,
                            .state = round_->Save()};
  metrics_.checkpoint_snapshot.Observe(Seconds(Clock::now() - start).count());
  return checkpoint;
}

void Server::RecordCheckpoint(const CheckpointWrite& write) {
  if (!write.path.ok()) {
    metrics_.checkpoints_failed.Increment();
    LOG_WARNING("checkpoint of anchor v%llu failed: %s",
                static_cast<unsigned long long>(write.version),
                write.path.status().message().c_str());
    return;
  }
  metrics_.checkpoints_written.Increment();
  metrics_.checkpoint_write.Observe(write.seconds);
  LOG_INFO("checkpoint of anchor v%llu written to %s (%.1f MB, %.3f s)",
           static_cast<unsigned long long>(write.version), write.path->c_str(),
           static_cast<double>(write.bytes) / 1e6, write.seconds);
}

Status Server::WriteLastCheckpoint() {
  if (std::optional<CheckpointWrite> write = checkpointer_->Wait()) {
    RecordCheckpoint(*write);
  }
  checkpointer_->Start(Snapshot());
  const std::optional<CheckpointWrite> write = checkpointer_->Wait();
  RecordCheckpoint(*write);
  if (!write->path.ok()) {
    return Status::Unavailable("the last checkpoint could not be written: " +
                               write->path.status().message());
  }
  return Status::Ok();
}

void Server::AnswerDoneWhileDraining(const std::string& stop_reason) {
  // Workers acknowledge Done with Leave. Those whose Done was lost, or that
  // join only now, keep asking for a little while: answer each of them
  // Done so they end cleanly. Stop early once every worker has left. A
  // signal is honoured within a second: its drain takes half of that.
  const auto linger = std::clamp<Clock::duration>(
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms) * 4,
      std::chrono::milliseconds(200),
      stop_requested_.load() ? std::chrono::milliseconds(500)
                             : std::chrono::milliseconds(2000));
  const Clock::time_point until = Clock::now() + linger;
  std::set<uint32_t> draining;
  for (const auto& [id, peer] : peers_) {
    if (round_->IsLive(id)) draining.insert(id);
  }
  while (Clock::now() < until && !draining.empty()) {
    StatusOr<std::vector<bool>> readable =
        transport::Poll({&router_}, std::chrono::milliseconds(20));
    if (!readable.ok() || !(*readable)[0]) continue;
    StatusOr<std::optional<transport::Frames>> frames =
        transport::ReceiveFrames(router_, transport::kMaxPayloadFrames + 2);
    if (!frames.ok() || !frames->has_value()) continue;
    transport::Frames& parts = **frames;
    const std::string routing_id = parts.front().to_string();
    parts.erase(parts.begin());
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(parts), &reason);
    if (!message.ok() ||
        message->worker_id() >= static_cast<uint32_t>(config_.train.workers)) {
      continue;
    }
    if (message->kind() == proto::Body::Leave) {
      draining.erase(message->worker_id());
      continue;
    }
    Send(routing_id,
         transport::MakeDone(builder_, message->worker_id(), round_->version(),
                             stop_reason, finished_));
  }
}

void Server::HandleIncoming() {
  // Drain what is waiting, bounded so timers still run under a flood.
  // ZeroMQ's ROUTER reads its connections in turn (fair queueing), so one
  // noisy peer gets one message of each turn, not the whole loop.
  for (int i = 0; i < 256 && !finished_ && !stop_requested_.load(); ++i) {
    StatusOr<std::optional<transport::Frames>> frames =
        transport::ReceiveFrames(router_, transport::kMaxPayloadFrames + 2);
    if (!frames.ok()) {
      CountRejection("frames");
      metrics_.Reject("frames");
      if (refusals_.AllowLog("frames")) {
        LOG_WARNING("rejected message: %s", frames.status().ToString().c_str());
      }
      continue;
    }
    if (!frames->has_value()) return;
    transport::Frames& parts = **frames;
    const std::string routing_id = parts.front().to_string();
    const size_t bytes = transport::FrameBytes(parts);
    metrics_.bytes_rx.Increment(static_cast<double>(bytes));
    bytes_up_ += static_cast<int64_t>(bytes);
    parts.erase(parts.begin());
    // With CURVE, the worker id the connection's key stands for.
    std::optional<uint32_t> authenticated;
    if (zap_ != nullptr && !parts.empty()) {
      authenticated = transport::AuthenticatedWorker(parts.front());
    }
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(parts), &reason);
    if (!message.ok()) {
      Reject(routing_id, 0, reason, algo::Refusal::kBadMessage,
             message.status().message());
      continue;
    }
    if (zap_ != nullptr && authenticated != message->worker_id()) {
      Reject(routing_id, message->worker_id(), "identity",
             algo::Refusal::kUnknownWorker,
             "this connection's CURVE key is not worker " +
                 std::to_string(message->worker_id()) + "'s");
      continue;
    }
    Dispatch(routing_id, std::move(message).value());
  }
}

void Server::Dispatch(const std::string& routing_id,
                      transport::Message message) {
  const uint32_t id = message.worker_id();
  if (message.kind() == proto::Body::Join) {
    const algo::JoinRequest request = transport::ReadJoin(message);
    const auto shard = static_cast<uint32_t>(config_.server.shard);
    const auto shards = static_cast<uint32_t>(config_.server.shards);
    if (request.server_shard != shard || request.server_shards != shards) {
      // Its slice of the model is another shard's, however alike in size.
      Reject(routing_id, id, "wrong_shard", algo::Refusal::kWrongDimension,
             "worker " + std::to_string(id) + " joined as shard " +
                 std::to_string(request.server_shard) + " of " +
                 std::to_string(request.server_shards) +
                 ", but this server is shard " + std::to_string(shard) +
                 " of " + std::to_string(shards) +
                 " (check the order of --servers)");
      return;
    }
    if (std::optional<std::string> held = HeldElsewhere(routing_id, request)) {
      Reject(routing_id, id, "identity", algo::Refusal::kIdentityInUse, *held);
      return;
    }
    Execute(routing_id, round_->OnJoin(Now(), request));
    return;
  }
  auto peer = peers_.find(id);
  if (!round_->IsLive(id) || peer == peers_.end() ||
      peer->second.routing_id != routing_id) {
    Reject(routing_id, id, "unknown_worker", algo::Refusal::kUnknownWorker,
           "worker " + std::to_string(id) + " sent " +
               proto::EnumNameBody(message.kind()) + " before joining");
    return;
  }
  peer->second.last_seen = Clock::now();
  switch (message.kind()) {
    case proto::Body::Push:
      HandlePush(routing_id, message);
      return;
    case proto::Body::PushAsk:
      SendCredits(
          credits_.Ask(id, transport::ReadPushAskRound(message), Clock::now()));
      return;
    case proto::Body::Values:
      Execute(routing_id,
              round_->OnValues(Now(), transport::ReadValues(message)));
      return;
    case proto::Body::Heartbeat:
      return;
    case proto::Body::Leave:
      Execute(routing_id,
              round_->OnLeave(Now(), id, transport::ReadLeaveReason(message)));
      return;
    default:
      Reject(routing_id, id, "unexpected", algo::Refusal::kBadMessage,
             std::string("workers do not send ") +
                 proto::EnumNameBody(message.kind()));
  }
}

void Server::HandlePush(const std::string& routing_id,
                        const transport::Message& message) {
  const uint32_t id = message.worker_id();
  algo::PushRequest push = transport::ReadPush(message);
  if (!credits_.Holds(id)) {
    metrics_.pushes_rejected.Increment();
    Reject(routing_id, id, "no_credit", algo::Refusal::kBadMessage,
           "round " + std::to_string(push.round) +
               " was pushed without a credit (ask with PushAsk first)");
    return;
  }
  const int64_t samples = round_->samples();
  push.received_unix_ns = UnixNanos();
  Execute(routing_id, round_->OnPush(Now(), push));
  metrics_.samples.Increment(static_cast<double>(round_->samples() - samples));
  metrics_.epoch.Set(round_->stats().epochs);
  SendCredits(credits_.Release(id, push.round, Clock::now()));
}

void Server::SendCredits(const std::vector<PushCredits::Grant>& grants) {
  // The gauge first: a worker that holds its credit sees it counted.
  metrics_.pushes_waiting.Set(static_cast<double>(credits_.waiting()));
  for (const PushCredits::Grant& grant : grants) {
    if (!round_->IsLive(grant.worker)) continue;
    SendTo(grant.worker,
           transport::MakePushCredit(builder_, grant.worker, grant.round));
  }
}

void Server::Execute(const std::string& requester,
                     const algo::Effects& effects) {
  for (const algo::Effect& effect : effects) {
    if (const auto* welcome = std::get_if<algo::Welcome>(&effect)) {
      peers_[welcome->worker].last_seen = Clock::now();
      SendTo(welcome->worker,
             transport::MakeWelcome(builder_, *welcome, resumed_.run_id,
                                    std::string(anchor_codec_->name()),
                                    credits_.enabled(), AnchorFrame()));
    } else if (const auto* update = std::get_if<algo::AnchorUpdate>(&effect)) {
      SendTo(update->worker,
             transport::MakeAnchor(builder_, *update,
                                   std::string(anchor_codec_->name()),
                                   AnchorFrame()));
    } else if (const auto* query = std::get_if<algo::Query>(&effect)) {
      const std::vector<uint32_t>& candidates = *query->candidates;
      SendTo(query->worker,
             transport::MakeQuery(
                 builder_, *query,
                 zmq::message_t(candidates.data(),
                                candidates.size() * sizeof(uint32_t))));
    } else if (const auto* refused = std::get_if<algo::Refused>(&effect)) {
      if (refused->was_push) metrics_.pushes_rejected.Increment();
      Refuse(requester, refused->worker, refused->reason, refused->code,
             refused->text);
    } else if (std::holds_alternative<algo::Finished>(effect)) {
      finished_ = true;
    } else if (const auto* change =
                   std::get_if<algo::MembershipChanged>(&effect)) {
      using Change = algo::MembershipChanged::Change;
      if (change->change == Change::kJoined ||
          change->change == Change::kRejoined) {
        // The accepted join's peer: its Welcome may come with another's.
        Peer& peer = peers_[change->worker];
        peer.routing_id = requester;
        peer.last_seen = Clock::now();
      }
      Observe(effect);
    } else {
      Observe(effect);
    }
  }
}

void Server::Observe(const algo::Effect& effect) {
  if (const auto* applied = std::get_if<algo::PushApplied>(&effect)) {
    metrics_.pushes_applied.Increment();
    metrics_.staleness.Observe(applied->staleness);
    metrics_.push_delay.Observe(
        std::max<double>(0.0, static_cast<double>(UnixNanos() -
                                                  applied->push_sent_unix_ns)) *
        1e-9);
  } else if (std::holds_alternative<algo::PushStale>(effect)) {
    metrics_.pushes_stale.Increment();
  } else if (const auto* published =
                 std::get_if<algo::VersionPublished>(&effect)) {
    metrics_.anchor_version.Set(static_cast<double>(published->version));
    metrics_.round_duration.Observe(published->seconds_since_previous);
    if (published->sync) {
      metrics_.straggler_wait.Observe(published->straggler_seconds);
    }
    if (on_version_) on_version_(published->version, round_->anchor());
  } else if (const auto* change =
                 std::get_if<algo::MembershipChanged>(&effect)) {
    using Change = algo::MembershipChanged::Change;
    metrics_.workers_connected.Set(change->live_workers);
    // A worker that left, was lost or joined again holds no credit.
    SendCredits(credits_.Forget(change->worker, Clock::now()));
    switch (change->change) {
      case Change::kJoined:
      case Change::kRejoined:
        LOG_INFO("worker %u %s (incarnation %llu, %d/%d live)", change->worker,
                 change->change == Change::kJoined ? "joined" : "rejoined",
                 static_cast<unsigned long long>(change->incarnation),
                 change->live_workers, config_.train.workers);
        break;
      case Change::kLeft:
        LOG_INFO("worker %u left: %s (%d live)", change->worker,
                 change->reason.c_str(), change->live_workers);
        break;
      case Change::kLost:
        metrics_.workers_lost.Increment();
        LOG_WARNING("worker %u lost: silent past the liveness window (%d live)",
                    change->worker, change->live_workers);
        break;
    }
  }
}

void Server::Reject(const std::string& routing_id, uint32_t worker_id,
                    const std::string& reason, algo::Refusal code,
                    const std::string& text) {
  CountRejection(reason);
  Refuse(routing_id, worker_id, reason, code, text);
}

void Server::CountRejection(const std::string& reason) {
  ++rejected_messages_;
  ++rejected_by_reason_[reason];
}

void Server::Refuse(const std::string& routing_id, uint32_t worker_id,
                    const std::string& reason, algo::Refusal code,
                    const std::string& text) {
  metrics_.Reject(reason);
  if (refusals_.AllowLog(reason)) {
    LOG_WARNING("refused a message from worker %u (%s): %s", worker_id,
                reason.c_str(), text.c_str());
  }
  if (!refusals_.AllowReply(routing_id, Clock::now())) {
    metrics_.replies_suppressed.Increment();
    return;
  }
  Send(routing_id, transport::MakeError(builder_, worker_id, code, text));
}

std::optional<std::string> Server::HeldElsewhere(
    const std::string& routing_id, const algo::JoinRequest& request) {
  const uint32_t id = request.worker;
  const auto peer = peers_.find(id);
  if (peer == peers_.end() || !round_->IsLive(id) ||
      peer->second.routing_id.empty() ||
      peer->second.routing_id == routing_id) {
    return std::nullopt;
  }
  // Another connection holds this id. A worker that really restarted, or
  // reconnected, joins with a higher incarnation; it takes the id over once
  // the old connection is gone (sending to it fails at once) or was silent
  // past the liveness window (then it was declared lost).
  const std::string prefix =
      "worker " + std::to_string(id) + " is held by another connection; ";
  if (request.incarnation <= round_->incarnation(id)) {
    return prefix + "a restarted worker joins with a higher incarnation";
  }
  Status probe = transport::SendFrames(
      router_, Addressed(peer->second.routing_id,
                         transport::MakeHeartbeat(builder_, id)));
  if (probe.code() != Status::Code::kNotFound) {
    return prefix + "it is admitted once that one closes or falls silent";
  }
  return std::nullopt;
}

void Server::CheckHeartbeats(Clock::time_point now) {
  const auto interval =
      std::chrono::milliseconds(config_.server.heartbeat_interval_ms);
  const auto limit = interval * config_.server.heartbeat_liveness;
  // Workers waiting for their Welcome are silent; their window starts
  // with it.
  const bool waiting = round_->holding_start();
  for (auto& [id, peer] : peers_) {
    if (!round_->IsLive(id)) continue;
    if (!waiting && now - peer.last_seen > limit) {
      Execute(peer.routing_id, round_->OnLost(Now(), id));
    } else if (now - peer.last_sent >= interval) {
      SendTo(id, transport::MakeHeartbeat(builder_, id));
    }
  }
}

void Server::MaybeEvaluate(Clock::time_point now) {
  if (config_.server.eval_interval_seconds <= 0 || now < next_eval_ ||
      config_.server.shards > 1) {
    return;
  }
  if (round_->version() == last_evaluated_version_) return;
  if (evaluator_->Submit(round_->version(), round_->anchor())) {
    last_evaluated_version_ = round_->version();
    next_eval_ = now + std::chrono::duration_cast<Clock::duration>(
                           Seconds(config_.server.eval_interval_seconds));
  }
}

void Server::RecordEvaluation(const EvalResult& result) {
  metrics_.eval_accuracy.Set(result.evaluation.accuracy);
  metrics_.eval_loss.Set(result.evaluation.loss);
  evaluations_.push_back({Now(), result.version, result.evaluation.accuracy,
                          result.evaluation.loss});
  LOG_INFO("anchor v%llu: test accuracy %.4f, loss %.4f, epoch %.2f",
           static_cast<unsigned long long>(result.version),
           result.evaluation.accuracy, result.evaluation.loss,
           round_->stats().epochs);
}

summary::RunSummary Server::Finish(const std::string& stop_reason,
                                   bool tell_done) {
  const int64_t training_ended_unix_ns = UnixNanos();
  // A shard holds a slice, which it cannot evaluate: its summary says so
  // with NaN (null in the JSON).
  model::Evaluation final_eval = {
      .loss = std::numeric_limits<double>::quiet_NaN(),
      .accuracy = std::numeric_limits<double>::quiet_NaN()};
  if (config_.server.shards == 1) {
    final_eval = EvaluateOn(*model_, test_, round_->anchor());
    metrics_.eval_accuracy.Set(final_eval.accuracy);
    metrics_.eval_loss.Set(final_eval.loss);
  }
  for (const auto& [id, peer] : peers_) {
    if (tell_done && round_->IsLive(id)) {
      SendTo(id, transport::MakeDone(builder_, id, round_->version(),
                                     stop_reason, finished_));
    }
  }
  summary::RunSummary summary;
  summary::SetRunSettings(config_, &summary);
  const algo::RoundStats stats = round_->stats();
  summary::SetRoundStats(stats, &summary);
  summary.test_accuracy = final_eval.accuracy;
  summary.test_loss = final_eval.loss;
  summary.wall_seconds = Now();
  if (stats.first_step_unix_ns > 0) {
    summary.training_seconds =
        static_cast<double>(training_ended_unix_ns - stats.first_step_unix_ns) *
        1e-9;
  }
  summary.bytes_up = bytes_up_;
  summary.bytes_down = bytes_down_;
  summary.rejected_messages += rejected_messages_;
  for (const auto& [reason, count] : rejected_by_reason_) {
    summary.rejected_by_reason[reason] += count;
  }
  summary.stop_reason = stop_reason;
  summary.restarts = resumed_.restarts;
  summary.resumed_from_version = resumed_.version;
  summary.evaluations = evaluations_;
  summary.evaluations.push_back({summary.wall_seconds, summary.anchor_version,
                                 final_eval.accuracy, final_eval.loss});
  LOG_INFO("done (%s): anchor v%llu, test accuracy %.4f, %.1f s",
           stop_reason.c_str(),
           static_cast<unsigned long long>(summary.anchor_version),
           summary.test_accuracy, summary.wall_seconds);
  return summary;
}

zmq::message_t Server::AnchorFrame() {
  // The round core published the anchor once, in the anchor codec's bytes
  // or, dense, as the floats themselves; every frame shares them.
  if (round_->published_bytes() != nullptr) {
    return transport::FrameOver(round_->published_bytes());
  }
  return transport::FrameOver(round_->published());
}

void Server::SendTo(uint32_t id, transport::Frames frames) {
  Peer& peer = peers_.at(id);
  // A resumed run's worker that has not rejoined yet has no connection.
  if (peer.routing_id.empty()) return;
  peer.last_sent = Clock::now();
  Send(peer.routing_id, std::move(frames));
}

transport::Frames Server::Addressed(const std::string& routing_id,
                                    transport::Frames frames) {
  frames.insert(frames.begin(), zmq::message_t(routing_id));
  return frames;
}

void Server::Send(const std::string& routing_id, transport::Frames frames) {
  const size_t bytes = transport::FrameBytes(frames);
  Status status =
      transport::SendFrames(router_, Addressed(routing_id, std::move(frames)));
  if (status.code() == Status::Code::kUnavailable) {
    metrics_.sends_dropped.Increment();
  }
  if (!status.ok()) {
    LOG_DEBUG("send to %s failed: %s", Printable(routing_id).c_str(),
              status.ToString().c_str());
    return;
  }
  metrics_.bytes_tx.Increment(static_cast<double>(bytes));
  bytes_down_ += static_cast<int64_t>(bytes);
}

}  // namespace anchorage::server
