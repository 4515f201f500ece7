// A deterministic cluster simulator: m workers and the server driven in
// one process on a virtual clock, running the same algorithm code as the
// services (algo::WorkerRound, algo::BasicAggregator, the learners), with
// compute and link time from a DelayModel applied to the bytes actually
// encoded, and pushes passed through the codec as the server would decode
// them. Anchors travel as dense float32. Two runs with the same inputs give
// bit-identical results.
//
// Events are processed in (virtual time, sequence) order: a worker's
// round, its sync point, a push arriving at the server, an anchor arriving
// at a worker. Overlapped algorithms go on computing while their push
// travels; blocking ones wait for the round's anchor; sync aggregation
// waits for every worker, so a straggler stalls everyone.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/algo/aggregator.h"
#include "common/algo/learner.h"
#include "common/algo/worker_round.h"
#include "common/base/status.h"
#include "common/optim/sgd.h"
#include "common/summary/run_summary.h"
#include "simulator/delay_model.h"

namespace anchorage::simulator {

struct SimulationOptions {
  algo::RoundOptions round;
  algo::AggregatorOptions aggregator;
  // Schedule of the outer rule's γ_t (local steps of one worker).
  optim::SgdOptions schedule;
  // Training examples in one epoch (the whole training set).
  int64_t examples_per_epoch = 1;
  // Length of the run: epochs of examples processed by all workers
  // together, and/or anchor versions; 0 = no limit (one must be set).
  double epochs = 0;
  int64_t max_versions = 0;
  // Evaluations of the anchor, evenly spaced over the run (plus one at 0).
  int eval_points = 20;
  // Bytes of a message's envelope on top of its payload.
  int64_t envelope_bytes = 96;
  DelayOptions delay;
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
  // the last trace point's test evaluation and epochs, one evaluation per
  // trace point. The settings are the caller's to fill (SimulateRun does,
  // from its RunConfig).
  summary::RunSummary summary;
  // Empty, or why the run stopped before its budget (a contribution that
  // could not be encoded: training diverged).
  std::string stopped_early;
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
  // Sends `worker`'s contribution through the push codec: replaces it with
  // what the server decodes (against `base`, the anchor the worker last
  // adopted or pulled toward) and returns the payload bytes on the wire. An
  // error (a contribution that cannot be encoded) stops the run.
  using Transmit =
      std::function<StatusOr<int64_t>(int worker, std::span<const Scalar> base,
                                      std::span<Scalar> contribution)>;

  // `learners` are the m workers, all starting from `initial`.
  Simulator(const SimulationOptions& options,
            std::vector<std::unique_ptr<algo::Learner<Scalar>>> learners,
            std::span<const Scalar> initial, Evaluate evaluate,
            Transmit transmit);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void set_observer(SimulationObserver<Scalar> observer) {
    observer_ = std::move(observer);
  }
  // Bytes a round-level step adds to the wire, over all workers.
  struct RoundTraffic {
    int64_t up = 0;
    int64_t down = 0;
  };
  // Sync mode: called with the aggregator when a round is complete, before
  // it closes: the sketched codecs' round step (algo/sketch_step.h).
  using RoundHook =
      std::function<RoundTraffic(algo::BasicAggregator<Scalar>& aggregator)>;
  void set_round_hook(RoundHook hook) { round_hook_ = std::move(hook); }

  // Called after each evaluation with the new trace point (progress output).
  void set_on_trace(std::function<void(const TracePoint&)> on_trace) {
    on_trace_ = std::move(on_trace);
  }

  // Runs to the end of the budget, or to a Transmit error (then named in
  // the result's `stopped_early`), and returns the result.
  SimulationResult<Scalar> Run();

 private:
  class Impl;
  SimulationObserver<Scalar> observer_;
  std::function<void(const TracePoint&)> on_trace_;
  RoundHook round_hook_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anchorage::simulator
