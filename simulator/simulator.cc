#include "simulator/simulator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <queue>
#include <random>
#include <utility>
#include <variant>

#include "common/algo/push_codec.h"
#include "common/algo/worker_sync.h"
#include "common/base/check.h"

namespace anchorage::simulator {

template <typename Scalar>
class Simulator<Scalar>::Impl {
 public:
  using Snapshot = std::shared_ptr<const std::vector<Scalar>>;
  using Action = algo::WorkerSync::Action;

  Impl(const SimulationOptions& options,
       std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
       std::unique_ptr<algo::BasicAnchorRound<Scalar>> round, Evaluate evaluate,
       MakeCodec make_codec, const Simulator* owner)
      : options_(options),
        owner_(owner),
        learners_(std::move(learners)),
        make_codec_(std::move(make_codec)),
        round_(std::move(round)),
        delay_(options.delay, static_cast<int>(learners_.size()), options.seed),
        evaluate_(std::move(evaluate)),
        anchor_bytes_(round_->dim() * (options.server.anchor_codec == "dense"
                                           ? static_cast<int64_t>(sizeof(float))
                                           : int64_t{2}) +
                      options.envelope_bytes),
        failure_random_(options.seed ^ 0x6661696c75726573ULL) {
    for (int id = 0; id < static_cast<int>(learners_.size()); ++id) {
      workers_.push_back(NewWorker(id));
    }
    incarnation_.assign(learners_.size(), 1);
    welcomed_incarnation_.assign(learners_.size(), 1);
    down_.assign(learners_.size(), false);
  }

  SimulationResult<Scalar> Run();

 private:
  // What arrives where: a push or values at the server, an anchor or a
  // query at a worker.
  struct PushMessage {
    algo::PushRequest request;
    std::vector<uint8_t> payload;
  };
  struct ValuesMessage {
    uint64_t round = 0;
    std::vector<uint8_t> values;
  };
  struct AnchorMessage {
    algo::AnchorHeader header;
    Snapshot anchor;
    std::shared_ptr<const std::vector<uint32_t>> applied;
  };
  struct QueryMessage {
    uint64_t round = 0;
    std::shared_ptr<const std::vector<uint32_t>> candidates;
  };
  struct ComputeDone {};
  // Failures: a worker's Join after its restart (or to a resumed server),
  // the server's liveness check of a crashed worker, crashes and restarts.
  struct JoinMessage {};
  struct LostCheck {
    uint64_t incarnation = 0;  // the worker's after its crash
  };
  struct WorkerCrash {};
  struct WorkerRestart {};
  struct ServerCrash {};
  struct ServerRestart {};
  // The round core's next deadline (a held reply's).
  struct ServerTick {};
  using Payload =
      std::variant<ComputeDone, PushMessage, ValuesMessage, AnchorMessage,
                   QueryMessage, JoinMessage, LostCheck, WorkerCrash,
                   WorkerRestart, ServerCrash, ServerRestart, ServerTick>;

  struct Event {
    double time;
    uint64_t sequence;
    int worker;
    // The worker's incarnation when the event was scheduled: what a
    // crashed incarnation had scheduled for itself is dropped.
    uint64_t incarnation;
    std::shared_ptr<Payload> payload;
    bool operator>(const Event& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };

  struct WorkerState {
    WorkerState(algo::Learner<Scalar>* learner,
                const algo::RoundOptions& options,
                algo::BasicPushEncoder<Scalar> push_encoder)
        : logic(learner, options),
          sync(logic.overlapped()),
          encoder(std::move(push_encoder)) {}
    algo::WorkerRound<Scalar> logic;
    algo::WorkerSync sync;
    algo::BasicPushEncoder<Scalar> encoder;
    Snapshot anchor;         // the newest anchor held
    bool computing = false;  // until its ComputeDone
    bool waiting = false;
    double wait_start = 0;
    uint64_t samples_since_push = 0;
    double compute_seconds = 0;
    double sync_wait_seconds = 0;
    double last_loss = 0;
    // The pushes a quantizing codec encoded and their bits per coordinate.
    uint64_t quantized_pushes = 0;
    uint64_t quantization_bits_sum = 0;
  };

  void Schedule(double time, int worker, Payload payload) {
    const uint64_t incarnation = worker >= 0 && !incarnation_.empty()
                                     ? incarnation_[static_cast<size_t>(worker)]
                                     : 0;
    events_.push({time, next_sequence_++, worker, incarnation,
                  std::make_shared<Payload>(std::move(payload))});
  }
  // Worker `id`'s Join as its current incarnation sends it.
  algo::JoinRequest JoinOf(int id) const {
    const codec::Codec& codec =
        workers_[static_cast<size_t>(id)]->encoder.codec();
    return {.worker = static_cast<uint32_t>(id),
            .incarnation = incarnation_[static_cast<size_t>(id)],
            .model_dim = static_cast<uint64_t>(round_->dim()),
            .algorithm =
                std::string{algo::AlgorithmName(options_.server.algorithm)},
            .codec = std::string{codec.name()},
            .codec_settings = codec.settings()};
  }
  std::unique_ptr<WorkerState> NewWorker(int id) {
    return std::make_unique<WorkerState>(
        learners_[static_cast<size_t>(id)].get(), options_.round,
        algo::BasicPushEncoder<Scalar>(options_.round.algorithm,
                                       make_codec_(id)));
  }
  bool failures_enabled() const {
    return options_.failures.worker_rate > 0 ||
           options_.failures.server_rate > 0;
  }
  // Schedules the next crash of a process failing at `rate` per second
  // (kServer: the server), unless it never fails.
  template <typename Crash>
  void ScheduleCrash(double now, int process, double rate) {
    if (rate <= 0) return;
    Schedule(now + std::exponential_distribution<double>(rate)(failure_random_),
             process, Crash{});
  }
  // The round core's processed pushes: applied, stale or refused.
  int64_t Processed() const {
    const algo::RoundStats stats = round_->stats();
    return stats.pushes_applied + stats.pushes_stale + stats.pushes_rejected;
  }
  void ScheduleJoin(int id, double send_time);
  // Carries one event to where it arrives.
  void Dispatch(const Event& event);
  void OnFailureEvent(const Event& event);
  void MaybeCheckpoint(double now);
  // Does what worker `id`'s sync policy asks until it computes or waits.
  void Advance(int id, double now);
  void Push(int id, double now, std::span<const Scalar> contribution);
  void AtWorker(int id, double now, const Payload& payload);
  void AtServer(int id, double now, const Payload& payload);
  // Carries out the round core's effects at `now`.
  void Execute(double now, const algo::Effects& effects);
  // Counts the coordinates of the new anchor version that differ from the
  // previous version's, and keeps it as the previous one.
  void CountAnchorChanges();
  double Progress() const;
  void RecordEvaluation(double now);

  const SimulationOptions options_;
  const Simulator* owner_;
  std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners_;
  MakeCodec make_codec_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  std::unique_ptr<algo::BasicAnchorRound<Scalar>> round_;
  DelayModel delay_;
  Evaluate evaluate_;

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t next_sequence_ = 0;
  int64_t anchor_bytes_;
  Status status_;
  // Pushes refused by the contribution bound since one was applied.
  int64_t refused_in_a_row_ = 0;

  SimulationResult<Scalar> result_;
  // The anchor of the last version, the coordinates the versions since the
  // start changed, and how many versions that is.
  std::vector<Scalar> previous_anchor_;
  int64_t anchor_changes_ = 0;
  int64_t anchor_versions_ = 0;
  int next_eval_ = 0;
  double now_ = 0;
  // When the next ServerTick is due (infinity: none scheduled).
  double tick_at_ = std::numeric_limits<double>::infinity();

  // Failures.
  std::mt19937_64 failure_random_;
  std::vector<uint64_t> incarnation_;
  // The incarnation of each worker whose Join the server last took.
  std::vector<uint64_t> welcomed_incarnation_;
  std::vector<bool> down_;
  bool server_down_ = false;
  std::vector<uint8_t> checkpoint_;
  int64_t checkpoint_processed_ = 0;
  double next_checkpoint_ = 0;
};

template <typename Scalar>
double Simulator<Scalar>::Impl::Progress() const {
  const algo::AnchorRoundOptions& server = options_.server;
  if (server.epochs > 0) {
    return static_cast<double>(result_.summary.samples) /
           (server.epochs * static_cast<double>(server.examples_per_epoch));
  }
  return static_cast<double>(round_->version()) /
         static_cast<double>(server.max_versions);
}

template <typename Scalar>
void Simulator<Scalar>::Impl::RecordEvaluation(double now) {
  const Evaluation evaluation = evaluate_(round_->anchor());
  TracePoint point;
  point.virtual_seconds = now;
  point.version = round_->version();
  point.examples = result_.summary.samples;
  point.epoch = static_cast<double>(result_.summary.samples) /
                static_cast<double>(options_.server.examples_per_epoch);
  double loss = 0;
  double wait = 0;
  for (const auto& worker : workers_) {
    loss += worker->last_loss;
    wait += worker->sync_wait_seconds;
  }
  point.train_loss = loss / static_cast<double>(workers_.size());
  point.sync_wait_seconds_mean = wait / static_cast<double>(workers_.size());
  point.test_loss = evaluation.loss;
  point.test_accuracy = evaluation.accuracy;
  point.bytes_up = result_.summary.bytes_up;
  point.bytes_down = result_.summary.bytes_down;
  result_.trace.push_back(point);
  result_.summary.evaluations.push_back(
      {now, point.version, point.test_accuracy, point.test_loss});
  if (owner_->on_trace_) owner_->on_trace_(point);
}

template <typename Scalar>
void Simulator<Scalar>::Impl::Advance(int id, double now) {
  WorkerState& worker = *workers_[static_cast<size_t>(id)];
  while (status_.ok() && !worker.computing) {
    const Action action = worker.sync.Next();
    if (action == Action::kWait) {
      if (!worker.waiting) {
        worker.waiting = true;
        worker.wait_start = now;
      }
      return;
    }
    if (worker.waiting) {
      worker.waiting = false;
      worker.sync_wait_seconds += now - worker.wait_start;
    }
    switch (action) {
      case Action::kStart:
        // A restart drops the round computed since the last push: its
        // examples are in no contribution.
        worker.logic.Start(*worker.anchor);
        worker.samples_since_push = 0;
        break;
      case Action::kCompute: {
        // The round's steps run now; the worker is busy until they would
        // have finished.
        worker.last_loss = worker.logic.Compute(worker.sync.schedule_step());
        const int steps = options_.round.local_steps;
        const double seconds = delay_.ComputeSeconds(id, steps);
        worker.compute_seconds += seconds;
        const int64_t samples =
            static_cast<int64_t>(steps) *
            learners_[static_cast<size_t>(id)]->batch_size();
        worker.samples_since_push += static_cast<uint64_t>(samples);
        result_.summary.samples += samples;
        worker.computing = true;
        Schedule(now + seconds, id, ComputeDone{});
        return;
      }
      case Action::kPullAndPush:
        Push(id, now, worker.logic.Contribution(*worker.anchor));
        break;
      case Action::kPush:
        Push(id, now, worker.logic.Contribution({}));
        break;
      case Action::kAdopt:
        worker.logic.FinishRound(*worker.anchor);
        break;
      case Action::kWait:
        break;
    }
    worker.sync.Done(action);
  }
}

template <typename Scalar>
void Simulator<Scalar>::Impl::Push(int id, double now,
                                   std::span<const Scalar> contribution) {
  WorkerState& worker = *workers_[static_cast<size_t>(id)];
  if (owner_->observer_.on_push) {
    owner_->observer_.on_push(id, worker.sync.round(),
                              worker.sync.base_version(), contribution);
  }
  PushMessage push;
  Status status =
      worker.encoder.Encode(*worker.anchor, contribution, &push.payload);
  if (!status.ok()) {
    status_ = Status::FailedPrecondition("worker " + std::to_string(id) + ": " +
                                         status.message());
    return;
  }
  if (const int bits = worker.encoder.codec().quantization_bits(); bits > 0) {
    ++worker.quantized_pushes;
    worker.quantization_bits_sum += static_cast<uint64_t>(bits);
  }
  push.request = {
      .worker = static_cast<uint32_t>(id),
      .round = worker.sync.round(),
      .base_version = worker.sync.base_version(),
      .codec = std::string(worker.encoder.codec().name()),
      .report = {
          .samples = worker.samples_since_push,
          .local_steps = static_cast<uint64_t>(options_.round.local_steps),
          .train_loss = static_cast<float>(worker.last_loss),
          .compute_seconds = worker.compute_seconds,
          .sync_wait_seconds = worker.sync_wait_seconds,
          .quantized_pushes = worker.quantized_pushes,
          .quantization_bits_sum = worker.quantization_bits_sum}};
  worker.samples_since_push = 0;
  ++result_.failures.pushes_sent;
  const auto bytes =
      static_cast<int64_t>(push.payload.size()) + options_.envelope_bytes;
  result_.summary.bytes_up += bytes;
  result_.summary.raw_bytes_up +=
      static_cast<int64_t>(contribution.size() * sizeof(float));
  Schedule(delay_.Uplink(id, now, bytes), id, std::move(push));
}

template <typename Scalar>
void Simulator<Scalar>::Impl::AtWorker(int id, double now,
                                       const Payload& payload) {
  WorkerState& worker = *workers_[static_cast<size_t>(id)];
  if (const auto* anchor = std::get_if<AnchorMessage>(&payload)) {
    if (anchor->applied != nullptr) {
      Status status = worker.encoder.codec().Applied(*anchor->applied);
      ANCHORAGE_CHECK(status.ok(), "applied coordinates out of range");
    }
    if (worker.sync.Offer(anchor->header)) worker.anchor = anchor->anchor;
    Advance(id, now);
    return;
  }
  // A query of the second round, answered by the worker's communication
  // thread while its compute goes on.
  const auto& query = std::get<QueryMessage>(payload);
  std::vector<float> exact(query.candidates->size());
  Status status = worker.encoder.codec().ExactValues(*query.candidates, exact);
  ANCHORAGE_CHECK(status.ok(), "exact values of a simulated worker");
  ValuesMessage values{
      .round = query.round,
      .values = std::vector<uint8_t>(exact.size() * sizeof(float))};
  std::memcpy(values.values.data(), exact.data(), values.values.size());
  const auto bytes =
      static_cast<int64_t>(values.values.size()) + options_.envelope_bytes;
  result_.summary.bytes_up += bytes;
  Schedule(delay_.Uplink(id, now, bytes), id, std::move(values));
}

template <typename Scalar>
void Simulator<Scalar>::Impl::AtServer(int id, double now,
                                       const Payload& payload) {
  if (server_down_) {
    // Nobody reads it; the workers' Joins are answered after the restart.
    if (std::holds_alternative<PushMessage>(payload)) {
      ++result_.failures.pushes_lost_in_flight;
    }
    return;
  }
  if (std::holds_alternative<JoinMessage>(payload)) {
    welcomed_incarnation_[static_cast<size_t>(id)] =
        incarnation_[static_cast<size_t>(id)];
    Execute(now, round_->OnJoin(now, JoinOf(id)));
    return;
  }
  if (const auto* check = std::get_if<LostCheck>(&payload)) {
    if (welcomed_incarnation_[static_cast<size_t>(id)] < check->incarnation) {
      Execute(now, round_->OnLost(now, static_cast<uint32_t>(id)));
    }
    return;
  }
  if (const auto* push = std::get_if<PushMessage>(&payload)) {
    algo::PushRequest request = push->request;
    request.payloads = {push->payload};
    Execute(now, round_->OnPush(now, request));
    return;
  }
  const auto& values = std::get<ValuesMessage>(payload);
  Execute(now, round_->OnValues(now, {.worker = static_cast<uint32_t>(id),
                                      .round = values.round,
                                      .payloads = {values.values}}));
}

template <typename Scalar>
void Simulator<Scalar>::Impl::Execute(double now,
                                      const algo::Effects& effects) {
  for (const algo::Effect& effect : effects) {
    if (const auto* update = std::get_if<algo::AnchorUpdate>(&effect)) {
      const auto id = static_cast<int>(update->worker);
      int64_t bytes = anchor_bytes_;
      if (update->applied != nullptr) {
        bytes +=
            static_cast<int64_t>(update->applied->size() * sizeof(uint32_t));
      }
      result_.summary.bytes_down += bytes;
      Schedule(delay_.Downlink(id, now, bytes), id,
               AnchorMessage{.header = {.version = update->version,
                                        .next_round = update->next_round,
                                        .schedule_step = update->schedule_step},
                             .anchor = round_->published(),
                             .applied = update->applied});
    } else if (const auto* query = std::get_if<algo::Query>(&effect)) {
      const auto id = static_cast<int>(query->worker);
      const auto bytes =
          static_cast<int64_t>(query->candidates->size() * sizeof(uint32_t)) +
          options_.envelope_bytes;
      result_.summary.bytes_down += bytes;
      Schedule(
          delay_.Downlink(id, now, bytes), id,
          QueryMessage{.round = query->round, .candidates = query->candidates});
    } else if (const auto* welcome = std::get_if<algo::Welcome>(&effect)) {
      const auto id = static_cast<int>(welcome->worker);
      result_.summary.bytes_down += anchor_bytes_;
      Schedule(delay_.Downlink(id, now, anchor_bytes_), id,
               AnchorMessage{.header = {.version = welcome->version,
                                        .next_round = welcome->next_round,
                                        .schedule_step = welcome->schedule_step,
                                        .welcome = true},
                             .anchor = round_->published()});
    } else if (const auto* refused = std::get_if<algo::Refused>(&effect)) {
      // Refused, the service's worker joins again and goes on from the
      // current anchor. An honest worker meets that when the contribution
      // bound takes its push for an outlier (a straggler's after its peers'
      // schedule decayed), and after a crash when its message meets a
      // server that lost it or a base it no longer keeps. Any other
      // refusal of a simulated worker is a bug.
      if (refused->reason != "update_norm" && !failures_enabled()) {
        status_ = Status::Internal("the round refused worker " +
                                   std::to_string(refused->worker) + ": " +
                                   refused->text);
      } else if (refused->reason == "update_norm" &&
                 ++refused_in_a_row_ > 10 * int64_t{options_.server.workers}) {
        // A bound that refuses everything would let the run go on forever.
        status_ = Status::FailedPrecondition(
            "the contribution bound refused " +
            std::to_string(refused_in_a_row_) +
            " pushes in a row (last: " + refused->text +
            "); raise --max-update-norm or --update-norm-factor");
      } else if (!down_[refused->worker]) {
        const auto id = static_cast<int>(refused->worker);
        ScheduleJoin(id, delay_.Downlink(id, now, options_.envelope_bytes));
      }
    } else if (std::holds_alternative<algo::PushApplied>(effect)) {
      refused_in_a_row_ = 0;
    } else if (std::holds_alternative<algo::VersionPublished>(effect)) {
      CountAnchorChanges();
      if (owner_->observer_.on_anchor) {
        owner_->observer_.on_anchor(round_->version(), round_->anchor());
      }
    }
  }
  const double due = round_->next_deadline();
  if (due < tick_at_) {
    tick_at_ = due;
    Schedule(due, kServer, ServerTick{});
  }
}

template <typename Scalar>
void Simulator<Scalar>::Impl::CountAnchorChanges() {
  const std::span<const Scalar> anchor = round_->anchor();
  int64_t changed = 0;
  for (size_t i = 0; i < anchor.size(); ++i) {
    changed += anchor[i] != previous_anchor_[i] ? 1 : 0;
  }
  anchor_changes_ += changed;
  ++anchor_versions_;
  std::copy(anchor.begin(), anchor.end(), previous_anchor_.begin());
}

template <typename Scalar>
void Simulator<Scalar>::Impl::ScheduleJoin(int id, double send_time) {
  result_.summary.bytes_up += options_.envelope_bytes;
  Schedule(delay_.Uplink(id, send_time, options_.envelope_bytes), id,
           JoinMessage{});
}

template <typename Scalar>
void Simulator<Scalar>::Impl::MaybeCheckpoint(double now) {
  if (options_.failures.server_rate <= 0 || server_down_ ||
      now < next_checkpoint_) {
    return;
  }
  checkpoint_ = round_->Save();
  checkpoint_processed_ = Processed();
  next_checkpoint_ = now + options_.failures.checkpoint_seconds;
}

template <typename Scalar>
void Simulator<Scalar>::Impl::OnFailureEvent(const Event& event) {
  const FailureOptions& failures = options_.failures;
  const Payload& payload = *event.payload;
  const int id = event.worker;
  if (std::holds_alternative<WorkerCrash>(payload)) {
    const auto w = static_cast<size_t>(id);
    if (event.incarnation != incarnation_[w] || down_[w]) return;
    down_[w] = true;
    ++incarnation_[w];
    ++result_.failures.worker_failures;
    Schedule(now_ + failures.restart_seconds, id, WorkerRestart{});
    Schedule(now_ + failures.liveness_seconds, id,
             LostCheck{.incarnation = incarnation_[w]});
  } else if (std::holds_alternative<WorkerRestart>(payload)) {
    // A new process: the learner's momentum and the codec's state are
    // gone; its parameters are replaced by the anchor its Join brings.
    const auto w = static_cast<size_t>(id);
    down_[w] = false;
    workers_[w] = NewWorker(id);
    learners_[w]->ResetMomentum();
    ScheduleJoin(id, now_);
    ScheduleCrash<WorkerCrash>(now_, id, failures.worker_rate);
  } else if (std::holds_alternative<ServerCrash>(payload)) {
    if (server_down_) return;
    server_down_ = true;
    ++result_.failures.server_crashes;
    result_.failures.pushes_rolled_back += Processed() - checkpoint_processed_;
    Schedule(now_ + failures.restart_seconds, kServer, ServerRestart{});
  } else if (std::holds_alternative<ServerRestart>(payload)) {
    // The server's way back: a fresh round core loads the last checkpoint.
    const std::vector<Scalar> initial(round_->anchor().begin(),
                                      round_->anchor().end());
    std::unique_ptr<algo::BasicAnchorRound<Scalar>> restored =
        algo::BasicAnchorRound<Scalar>::Create(options_.server, initial,
                                               make_codec_(kServer))
            .value();
    Status status = restored->Load(checkpoint_);
    ANCHORAGE_CHECK(status.ok(), "a simulated checkpoint does not load");
    round_ = std::move(restored);
    // Versions published again after the rollback count from the anchor
    // the checkpoint restored.
    previous_anchor_.assign(round_->anchor().begin(), round_->anchor().end());
    server_down_ = false;
    next_checkpoint_ = now_;
    for (int w = 0; w < static_cast<int>(workers_.size()); ++w) {
      if (!down_[static_cast<size_t>(w)]) {
        ScheduleJoin(w, now_);
      } else if (round_->IsLive(static_cast<uint32_t>(w))) {
        Schedule(
            now_ + failures.liveness_seconds, w,
            LostCheck{.incarnation = incarnation_[static_cast<size_t>(w)]});
      }
    }
    ScheduleCrash<ServerCrash>(now_, kServer, failures.server_rate);
  }
}

template <typename Scalar>
void Simulator<Scalar>::Impl::Dispatch(const Event& event) {
  const Payload& payload = *event.payload;
  const bool at_worker = std::holds_alternative<ComputeDone>(payload) ||
                         std::holds_alternative<AnchorMessage>(payload) ||
                         std::holds_alternative<QueryMessage>(payload);
  if (at_worker && down_[static_cast<size_t>(event.worker)]) return;
  if (std::holds_alternative<ComputeDone>(payload)) {
    // A crashed incarnation's compute never finishes.
    if (event.incarnation != incarnation_[static_cast<size_t>(event.worker)]) {
      return;
    }
    WorkerState& worker = *workers_[static_cast<size_t>(event.worker)];
    worker.computing = false;
    worker.sync.Done(Action::kCompute);
    Advance(event.worker, now_);
  } else if (at_worker) {
    AtWorker(event.worker, now_, payload);
  } else if (std::holds_alternative<ServerTick>(payload)) {
    tick_at_ = std::numeric_limits<double>::infinity();
    if (!server_down_) Execute(now_, round_->OnTick(now_));
  } else if (std::holds_alternative<PushMessage>(payload) ||
             std::holds_alternative<ValuesMessage>(payload) ||
             std::holds_alternative<JoinMessage>(payload) ||
             std::holds_alternative<LostCheck>(payload)) {
    AtServer(event.worker, now_, payload);
  } else {
    OnFailureEvent(event);
  }
}

template <typename Scalar>
SimulationResult<Scalar> Simulator<Scalar>::Impl::Run() {
  RecordEvaluation(0.0);
  next_eval_ = 1;
  previous_anchor_.assign(round_->anchor().begin(), round_->anchor().end());
  if (owner_->observer_.on_anchor) {
    owner_->observer_.on_anchor(round_->version(), round_->anchor());
  }
  // Every worker joins at time 0 and starts from its Welcome's anchor
  // (with a start wait, every Welcome comes with the last join).
  for (int id = 0; id < static_cast<int>(workers_.size()); ++id) {
    const algo::Effects effects = round_->OnJoin(0.0, JoinOf(id));
    for (const algo::Effect& effect : effects) {
      if (const auto* welcome = std::get_if<algo::Welcome>(&effect)) {
        const auto welcomed = static_cast<int>(welcome->worker);
        WorkerState& worker = *workers_[static_cast<size_t>(welcomed)];
        worker.sync.Offer({.version = welcome->version,
                           .next_round = welcome->next_round,
                           .welcome = true});
        worker.anchor = round_->published();
        Advance(welcomed, 0.0);
      } else if (const auto* refused = std::get_if<algo::Refused>(&effect)) {
        status_ = Status::Internal("the round refused a simulated worker: " +
                                   refused->text);
      }
    }
    ScheduleCrash<WorkerCrash>(0.0, id, options_.failures.worker_rate);
  }
  ScheduleCrash<ServerCrash>(0.0, kServer, options_.failures.server_rate);
  while (!events_.empty() && !round_->finished() && status_.ok()) {
    const Event event = events_.top();
    events_.pop();
    now_ = event.time;
    MaybeCheckpoint(now_);
    Dispatch(event);
    while (next_eval_ < options_.eval_points &&
           Progress() >=
               static_cast<double>(next_eval_) / options_.eval_points) {
      RecordEvaluation(now_);
      ++next_eval_;
    }
  }
  while (!events_.empty()) {
    if (std::holds_alternative<PushMessage>(*events_.top().payload)) {
      ++result_.failures.pushes_in_flight_at_end;
    }
    events_.pop();
  }
  RecordEvaluation(now_);
  result_.anchor.assign(round_->anchor().begin(), round_->anchor().end());
  summary::RunSummary& summary = result_.summary;
  const int64_t samples = summary.samples;
  summary::SetRoundStats(round_->stats(), &summary);
  // The examples the workers computed, not only those their pushes
  // reported, as the trace counts them.
  const TracePoint& last = result_.trace.back();
  summary.samples = samples;
  summary.epochs = last.epoch;
  summary.simulated = true;
  summary.test_accuracy = last.test_accuracy;
  summary.test_loss = last.test_loss;
  summary.wall_seconds = now_;
  summary.restarts = result_.failures.server_crashes;
  summary.anchor_changes_mean = anchor_versions_ > 0
                                    ? static_cast<double>(anchor_changes_) /
                                          static_cast<double>(anchor_versions_)
                                    : 0.0;
  summary.stop_reason = "reached the budget";
  if (!status_.ok()) {
    result_.stopped_early = status_.message();
    summary.stop_reason = "stopped early: " + status_.message();
  }
  double compute = 0;
  double wait = 0;
  double loss = 0;
  for (const auto& worker : workers_) {
    compute += worker->compute_seconds;
    wait += worker->sync_wait_seconds;
    loss += worker->last_loss;
  }
  const auto m = static_cast<double>(workers_.size());
  summary.compute_seconds_mean = compute / m;
  summary.sync_wait_seconds_mean = wait / m;
  summary.train_loss = loss / m;
  return std::move(result_);
}

template <typename Scalar>
StatusOr<std::unique_ptr<Simulator<Scalar>>> Simulator<Scalar>::Create(
    const SimulationOptions& options,
    std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
    std::span<const Scalar> initial, Evaluate evaluate,
    const MakeCodec& make_codec) {
  if (options.server.epochs <= 0 && options.server.max_versions <= 0) {
    return Status::InvalidArgument("a simulation needs a budget");
  }
  if (static_cast<int>(learners.size()) != options.server.workers) {
    return Status::InvalidArgument("one learner per expected worker");
  }
  StatusOr<std::unique_ptr<algo::BasicAnchorRound<Scalar>>> round =
      algo::BasicAnchorRound<Scalar>::Create(options.server, initial,
                                             make_codec(kServer));
  if (!round.ok()) return round.status();
  std::unique_ptr<Simulator> simulator(new Simulator());
  simulator->impl_ = std::make_unique<Impl>(
      options, std::move(learners), std::move(round).value(),
      std::move(evaluate), MakeCodec(make_codec), simulator.get());
  return simulator;
}

template <typename Scalar>
Simulator<Scalar>::~Simulator() = default;

template <typename Scalar>
SimulationResult<Scalar> Simulator<Scalar>::Run() {
  return impl_->Run();
}

template class Simulator<float>;
template class Simulator<double>;

}  // namespace anchorage::simulator
