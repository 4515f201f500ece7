#include "simulator/simulator.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "common/base/check.h"

namespace anchorage::simulator {

template <typename Scalar>
class Simulator<Scalar>::Impl {
 public:
  using Snapshot = std::shared_ptr<const std::vector<Scalar>>;

  Impl(const SimulationOptions& options,
       std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
       std::span<const Scalar> initial, Evaluate evaluate, Transmit transmit,
       const Simulator* owner)
      : options_(options),
        owner_(owner),
        learners_(std::move(learners)),
        aggregator_(options.aggregator, initial),
        delay_(options.delay, static_cast<int>(learners_.size()), options.seed),
        evaluate_(std::move(evaluate)),
        transmit_(std::move(transmit)),
        anchor_bytes_(static_cast<int64_t>(initial.size() * sizeof(float)) +
                      options.envelope_bytes) {
    for (auto& learner : learners_) {
      workers_.push_back({});
      workers_.back().logic = std::make_unique<algo::WorkerRound<Scalar>>(
          learner.get(), options.round);
    }
    for (uint32_t id = 0; id < workers_.size(); ++id) {
      Status status = aggregator_.AddWorker(id);
      ANCHORAGE_CHECK(status.ok(), "adding a simulated worker");
    }
  }

  SimulationResult<Scalar> Run();

 private:
  enum class Kind { kComputeDone, kPushArrival, kAnchorArrival };

  struct Event {
    double time;
    uint64_t sequence;
    Kind kind;
    int worker;
    uint64_t round;
    uint64_t version;     // push: base version; anchor: its version
    uint64_t next_round;  // anchor
    Snapshot payload;     // push: contribution; anchor: the anchor
    bool operator>(const Event& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };

  struct WorkerState {
    std::unique_ptr<algo::WorkerRound<Scalar>> logic;
    uint64_t round = 0;
    bool waiting = false;
    uint64_t needed_round = 0;
    double wait_start = 0;
    Snapshot anchor;
    uint64_t anchor_version = 0;
    uint64_t anchor_next_round = 0;
    double compute_seconds = 0;
    double sync_wait_seconds = 0;
    double last_loss = 0;
  };

  void Schedule(Event event) {
    event.sequence = next_sequence_++;
    events_.push(std::move(event));
  }
  void StartRound(int worker, double now);
  void SyncPoint(int worker, double now);
  void Push(int worker, double now, std::span<const Scalar> contribution);
  void ServePush(const Event& event);
  void ReceiveAnchor(const Event& event);
  void SendAnchor(int worker, double now, uint64_t next_round);
  Snapshot CurrentAnchor();
  bool BudgetReached() const;
  double Progress() const;
  void RecordEvaluation(double now);

  const SimulationOptions options_;
  const Simulator* owner_;
  std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners_;
  std::vector<WorkerState> workers_;
  algo::BasicAggregator<Scalar> aggregator_;
  DelayModel delay_;
  Evaluate evaluate_;
  Transmit transmit_;

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t next_sequence_ = 0;
  Snapshot anchor_snapshot_;
  uint64_t snapshot_version_ = UINT64_MAX;
  int64_t anchor_bytes_;
  Status status_;
  std::vector<Scalar> scratch_;

  SimulationResult<Scalar> result_;
  double staleness_sum_ = 0;
  int next_eval_ = 0;
  double now_ = 0;
};

template <typename Scalar>
typename Simulator<Scalar>::Impl::Snapshot
Simulator<Scalar>::Impl::CurrentAnchor() {
  if (snapshot_version_ != aggregator_.version() || !anchor_snapshot_) {
    const std::span<const Scalar> anchor = aggregator_.anchor();
    anchor_snapshot_ = std::make_shared<const std::vector<Scalar>>(
        anchor.begin(), anchor.end());
    snapshot_version_ = aggregator_.version();
    if (owner_->observer_.on_anchor) {
      owner_->observer_.on_anchor(aggregator_.version(), *anchor_snapshot_);
    }
  }
  return anchor_snapshot_;
}

template <typename Scalar>
double Simulator<Scalar>::Impl::Progress() const {
  if (options_.epochs > 0) {
    return static_cast<double>(result_.summary.samples) /
           (options_.epochs * static_cast<double>(options_.examples_per_epoch));
  }
  return static_cast<double>(aggregator_.version()) /
         static_cast<double>(options_.max_versions);
}

template <typename Scalar>
bool Simulator<Scalar>::Impl::BudgetReached() const {
  if (options_.epochs > 0 &&
      static_cast<double>(result_.summary.samples) >=
          options_.epochs * static_cast<double>(options_.examples_per_epoch)) {
    return true;
  }
  return options_.max_versions > 0 &&
         aggregator_.version() >= static_cast<uint64_t>(options_.max_versions);
}

template <typename Scalar>
void Simulator<Scalar>::Impl::RecordEvaluation(double now) {
  const Evaluation evaluation = evaluate_(aggregator_.anchor());
  TracePoint point;
  point.virtual_seconds = now;
  point.version = aggregator_.version();
  point.examples = result_.summary.samples;
  point.epoch = static_cast<double>(result_.summary.samples) /
                static_cast<double>(options_.examples_per_epoch);
  double loss = 0;
  double wait = 0;
  for (const WorkerState& worker : workers_) {
    loss += worker.last_loss;
    wait += worker.sync_wait_seconds;
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
void Simulator<Scalar>::Impl::StartRound(int worker, double now) {
  WorkerState& state = workers_[static_cast<size_t>(worker)];
  state.last_loss = state.logic->Compute();
  const double seconds =
      delay_.ComputeSeconds(worker, options_.round.local_steps);
  state.compute_seconds += seconds;
  Schedule(
      {.time = now + seconds, .kind = Kind::kComputeDone, .worker = worker});
}

template <typename Scalar>
void Simulator<Scalar>::Impl::SyncPoint(int worker, double now) {
  WorkerState& state = workers_[static_cast<size_t>(worker)];
  if (state.logic->overlapped()) {
    if (state.anchor_next_round >= state.round) {
      Push(worker, now, state.logic->Contribution(*state.anchor));
      ++state.round;
      StartRound(worker, now);
      return;
    }
    state.needed_round = state.round;
  } else {
    Push(worker, now, state.logic->Contribution({}));
    state.needed_round = state.round + 1;
  }
  state.waiting = true;
  state.wait_start = now;
}

template <typename Scalar>
void Simulator<Scalar>::Impl::Push(int worker, double now,
                                   std::span<const Scalar> contribution) {
  WorkerState& state = workers_[static_cast<size_t>(worker)];
  if (owner_->observer_.on_push) {
    owner_->observer_.on_push(worker, state.round, state.anchor_version,
                              contribution);
  }
  auto payload = std::make_shared<std::vector<Scalar>>(contribution.begin(),
                                                       contribution.end());
  StatusOr<int64_t> sent = transmit_(worker, *state.anchor, *payload);
  if (!sent.ok()) {
    status_ = sent.status();
    return;
  }
  const int64_t bytes = *sent + options_.envelope_bytes;
  result_.summary.bytes_up += bytes;
  result_.summary.raw_bytes_up +=
      static_cast<int64_t>(contribution.size() * sizeof(float));
  Schedule({.time = delay_.Uplink(worker, now, bytes),
            .kind = Kind::kPushArrival,
            .worker = worker,
            .round = state.round,
            .version = state.anchor_version,
            .payload = std::move(payload)});
}

template <typename Scalar>
void Simulator<Scalar>::Impl::SendAnchor(int worker, double now,
                                         uint64_t next_round) {
  Snapshot anchor = CurrentAnchor();
  result_.summary.bytes_down += anchor_bytes_;
  Schedule({.time = delay_.Downlink(worker, now, anchor_bytes_),
            .kind = Kind::kAnchorArrival,
            .worker = worker,
            .version = aggregator_.version(),
            .next_round = next_round,
            .payload = std::move(anchor)});
}

template <typename Scalar>
void Simulator<Scalar>::Impl::ServePush(const Event& event) {
  const uint64_t version_before = aggregator_.version();
  scratch_.assign(event.payload->begin(), event.payload->end());
  const double lr = optim::ScheduledLearningRate(
      options_.schedule,
      static_cast<int64_t>(event.round) * options_.round.local_steps);
  const bool async = options_.aggregator.mode == algo::AggregationMode::kAsync;
  if (async) aggregator_.set_learning_rate(lr);
  Status status = aggregator_.Submit(static_cast<uint32_t>(event.worker),
                                     event.round, &scratch_);
  if (status.code() == Status::Code::kFailedPrecondition) {
    ++result_.summary.pushes_stale;
    SendAnchor(event.worker, event.time, aggregator_.round());
    return;
  }
  ANCHORAGE_CHECK(status.ok(), "simulated push refused");
  ++result_.summary.pushes_applied;
  staleness_sum_ +=
      static_cast<double>(version_before) -
      static_cast<double>(std::min(event.version, version_before));
  if (async) {
    SendAnchor(event.worker, event.time, event.round + 1);
    return;
  }
  if (aggregator_.pending() < aggregator_.num_workers()) return;
  if (owner_->round_hook_) {
    const RoundTraffic traffic = owner_->round_hook_(aggregator_);
    result_.summary.bytes_up += traffic.up;
    result_.summary.bytes_down += traffic.down;
  }
  aggregator_.set_learning_rate(optim::ScheduledLearningRate(
      options_.schedule,
      static_cast<int64_t>(aggregator_.round()) * options_.round.local_steps));
  aggregator_.CloseRound();
  for (int worker = 0; worker < static_cast<int>(workers_.size()); ++worker) {
    SendAnchor(worker, event.time, aggregator_.round());
  }
}

template <typename Scalar>
void Simulator<Scalar>::Impl::ReceiveAnchor(const Event& event) {
  WorkerState& state = workers_[static_cast<size_t>(event.worker)];
  if (event.next_round > state.anchor_next_round ||
      event.version >= state.anchor_version) {
    state.anchor = event.payload;
    state.anchor_version = event.version;
    state.anchor_next_round =
        std::max(state.anchor_next_round, event.next_round);
  }
  if (!state.waiting || state.anchor_next_round < state.needed_round) return;
  state.waiting = false;
  state.sync_wait_seconds += event.time - state.wait_start;
  if (state.logic->overlapped()) {
    Push(event.worker, event.time, state.logic->Contribution(*state.anchor));
  } else {
    state.logic->FinishRound(*state.anchor);
  }
  ++state.round;
  StartRound(event.worker, event.time);
}

template <typename Scalar>
SimulationResult<Scalar> Simulator<Scalar>::Impl::Run() {
  ANCHORAGE_CHECK(options_.epochs > 0 || options_.max_versions > 0,
                  "simulation without a budget");
  Snapshot initial = CurrentAnchor();
  RecordEvaluation(0.0);
  next_eval_ = 1;
  for (int worker = 0; worker < static_cast<int>(workers_.size()); ++worker) {
    WorkerState& state = workers_[static_cast<size_t>(worker)];
    state.anchor = initial;
    state.logic->Start(*initial);
    StartRound(worker, 0.0);
  }
  while (!events_.empty() && !BudgetReached() && status_.ok()) {
    const Event event = events_.top();
    events_.pop();
    now_ = event.time;
    switch (event.kind) {
      case Kind::kComputeDone:
        result_.summary.samples +=
            static_cast<int64_t>(options_.round.local_steps) *
            learners_[static_cast<size_t>(event.worker)]->batch_size();
        SyncPoint(event.worker, event.time);
        break;
      case Kind::kPushArrival:
        ServePush(event);
        break;
      case Kind::kAnchorArrival:
        ReceiveAnchor(event);
        break;
    }
    while (next_eval_ < options_.eval_points &&
           Progress() >=
               static_cast<double>(next_eval_) / options_.eval_points) {
      RecordEvaluation(now_);
      ++next_eval_;
    }
  }
  RecordEvaluation(now_);
  result_.anchor.assign(aggregator_.anchor().begin(),
                        aggregator_.anchor().end());
  summary::RunSummary& summary = result_.summary;
  const TracePoint& last = result_.trace.back();
  summary.simulated = true;
  summary.anchor_version = aggregator_.version();
  summary.test_accuracy = last.test_accuracy;
  summary.test_loss = last.test_loss;
  summary.wall_seconds = now_;
  summary.epochs = last.epoch;
  summary.stop_reason = "reached the budget";
  if (!status_.ok()) {
    result_.stopped_early = status_.message();
    summary.stop_reason = "stopped early: " + status_.message();
  }
  double compute = 0;
  double wait = 0;
  double loss = 0;
  for (const WorkerState& state : workers_) {
    compute += state.compute_seconds;
    wait += state.sync_wait_seconds;
    loss += state.last_loss;
  }
  const auto m = static_cast<double>(workers_.size());
  summary.compute_seconds_mean = compute / m;
  summary.sync_wait_seconds_mean = wait / m;
  summary.train_loss = loss / m;
  summary.staleness_mean =
      summary.pushes_applied > 0
          ? staleness_sum_ / static_cast<double>(summary.pushes_applied)
          : 0.0;
  return std::move(result_);
}

template <typename Scalar>
Simulator<Scalar>::Simulator(
    const SimulationOptions& options,
    std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
    std::span<const Scalar> initial, Evaluate evaluate, Transmit transmit)
    : impl_(std::make_unique<Impl>(options, std::move(learners), initial,
                                   std::move(evaluate), std::move(transmit),
                                   this)) {}

template <typename Scalar>
Simulator<Scalar>::~Simulator() = default;

template <typename Scalar>
SimulationResult<Scalar> Simulator<Scalar>::Run() {
  return impl_->Run();
}

template class Simulator<float>;
template class Simulator<double>;

}  // namespace anchorage::simulator
