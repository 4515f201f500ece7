// A deterministic cluster simulator: m workers and the server driven in
// one process on a virtual clock. It repeats none of the round's logic: the
// server is the round core (algo::AnchorRound, with its sync barrier,
// relative bases, sketch rounds and budget), each worker is the worker sync
// policy (algo::WorkerSync) over the same round logic and learners as the
// worker service, and pushes pass through each worker's own codec exactly
// as they would on the wire. The simulator only carries messages: compute
// and link time come from a DelayModel applied to the bytes actually
// encoded. Anchors travel as dense float32. Two runs with the same inputs
// give bit-identical results.
//
// Events are processed in (virtual time, sequence) order: a worker finishing
// its round's compute, a message arriving at the server, a message arriving
// at a worker, a crash or a restart. Every worker has joined at time 0.
//
// Failures (FailureOptions) are modelled as the services live through
// them: a crashed worker loses its local model, optimizer and codec state,
// starts again after the downtime from the anchor its Join brings, and is
// found lost by the server a liveness window after the crash unless it came
// back first; a crashed server loses what it did since its last checkpoint
// and every message that reaches it while down, then resumes that
// checkpoint (the same AnchorRound::Save/Load the server uses) and its
// workers rejoin it. Messages already on the wire are delivered.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/algo/anchor_round.h"
#include "common/algo/learner.h"
#include "common/algo/worker_round.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/summary/run_summary.h"
#include "simulator/delay_model.h"

namespace anchorage::simulator {

struct FailureOptions {
  // Crashes per virtual second of each worker and of the server (Poisson
  // processes drawn from the run's seed; 0 = none).
  double worker_rate = 0;
  double server_rate = 0;
  // Virtual seconds a crashed process stays down.
  double restart_seconds = 1.0;
  // The server's checkpoint interval, and how long after a worker's crash
  // the server declares it lost.
  double checkpoint_seconds = 30.0;
  double liveness_seconds = 10.0;
};

// What the failures cost, to account for every push: each one sent is
// processed by the final round core (applied, stale or refused: its
// counters), lost in flight (it reached a server that was down), rolled
// back (processed after the checkpoint a crashed server resumed), or still
// on the wire when the run ended.
struct FailureCounts {
  int64_t worker_failures = 0;
  int64_t server_crashes = 0;
  int64_t pushes_sent = 0;
  int64_t pushes_lost_in_flight = 0;
  int64_t pushes_rolled_back = 0;
  int64_t pushes_in_flight_at_end = 0;
};

struct SimulationOptions {
  // The workers' round (algorithm, τ, α, momentum reset).
  algo::RoundOptions round;
  // The server's round core, with the run's budget (epochs of examples the
  // workers report and/or anchor versions; one must be set).
  algo::AnchorRoundOptions server;
  // Evaluations of the anchor, evenly spaced over the run (plus one at 0).
  int eval_points = 20;
  // Bytes of a message's envelope on top of its payload.
  int64_t envelope_bytes = 96;
  DelayOptions delay;
  FailureOptions failures;
  uint64_t seed = 1;
};

struct TracePoint {
  double virtual_seconds = 0;
  uint64_t version = 0;
  int64_t examples = 0;
  double epoch = 0;
  double train_loss = 0;
  double test_loss = 0;
  double test_accuracy = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  double sync_wait_seconds_mean = 0;
};

template <typename Scalar>
struct SimulationResult {
  std::vector<TracePoint> trace;
  std::vector<Scalar> anchor;
  // The run's numbers: `simulated`, times in virtual seconds (wall_seconds),
  // the last trace point's test evaluation, the examples the workers
  // computed (samples, epochs), the round core's counts, one evaluation per
  // trace point, and the coordinates each new anchor version changed
  // (anchor_changes_mean). The settings are the caller's to fill
  // (SimulateRun does, from its RunConfig).
  summary::RunSummary summary;
  // Empty, or why the run stopped before its budget (a contribution that
  // could not be encoded: training diverged).
  std::string stopped_early;
  FailureCounts failures;
};

// Hooks for tests: what was sent and what was published.
template <typename Scalar>
struct SimulationObserver {
  // A worker sends `contribution` for `round`, having last pulled toward
  // (or adopted) anchor `base_version`.
  std::function<void(int worker, uint64_t round, uint64_t base_version,
                     std::span<const Scalar> contribution)>
      on_push;
  std::function<void(uint64_t version, std::span<const Scalar>)> on_anchor;
};

template <typename Scalar>
class Simulator {
 public:
  struct Evaluation {
    double loss = 0;
    double accuracy = 0;
  };
  using Evaluate = std::function<Evaluation(std::span<const Scalar>)>;
  // The push codec of `sender`: a worker's id, or kServer for the server's
  // decoder. Each worker encodes with its own (its own error feedback and
  // random stream). Double-precision runs need a lossless codec.
  static constexpr int kServer = -1;
  using MakeCodec = std::function<std::unique_ptr<codec::Codec>(int sender)>;

  // `learners` are the m workers, all starting from `initial`. Returns the
  // round core's refusal of the options or codecs (InvalidArgument).
  static StatusOr<std::unique_ptr<Simulator>> Create(
      const SimulationOptions& options,
      std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
      std::span<const Scalar> initial, Evaluate evaluate,
      const MakeCodec& make_codec);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void set_observer(SimulationObserver<Scalar> observer) {
    observer_ = std::move(observer);
  }

  // Called after each evaluation with the new trace point (progress output).
  void set_on_trace(std::function<void(const TracePoint&)> on_trace) {
    on_trace_ = std::move(on_trace);
  }

  // Runs to the end of the budget, or to a push that cannot be encoded
  // (training diverged; named in the result's `stopped_early`), and
  // returns the result.
  SimulationResult<Scalar> Run();

 private:
  class Impl;
  Simulator() = default;
  SimulationObserver<Scalar> observer_;
  std::function<void(const TracePoint&)> on_trace_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorage::simulator
