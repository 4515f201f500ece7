// The worker's side of one round, for every algorithm, free of sockets and
// clocks. The worker service and the simulator both drive a worker through
// the same three calls, in this order:
//
//   Compute(run step)               τ local steps (or τ gradient samples)
//   overlapped: wait for the anchor that answers the previous round, then
//   Contribution(newest anchor)     pull toward it, return x to send
//   blocking:
//   Contribution({})                return x (or the mean gradient) to send
//   wait for this round's anchor, then
//   FinishRound(anchor)             adopt it (and reset momentum if asked)
//
// The returned contribution is a view into the learner or an internal
// buffer, valid until the next call; callers copy or encode it at once,
// so a buffer in flight is never written.
//
// Not thread-safe: owned by one worker's compute thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/algo/algorithm.h"
#include "common/algo/learner.h"

namespace anchorage::algo {

struct RoundOptions {
  Algorithm algorithm = Algorithm::kOverlapLocalSgd;
  // Local steps τ per round (minibatch SGD: gradient samples per round).
  int local_steps = 1;
  // Overlap-Local-SGD's pull strength α.
  double alpha = 0.6;
  // Zero the local momentum buffer whenever a new anchor is adopted
  // (SlowMo's base-buffer policy).
  bool reset_momentum = false;
};

template <typename Scalar>
class WorkerRound {
 public:
  // `learner` must outlive this object.
  WorkerRound(Learner<Scalar>* learner, const RoundOptions& options);

  // Runs the local part of a round; returns the mean minibatch loss. The
  // learner's schedule first catches up with `run_step`, the run's progress
  // in one worker's steps (WorkerSync::schedule_step), so a straggler
  // decays its rate when the run does.
  double Compute(uint64_t run_step);
  // Whether the worker waits for the previous round's anchor before it
  // sends (overlapped) or for this round's anchor after (blocking).
  bool overlapped() const { return traits_.overlapped; }
  // Returns what to send this round. Overlapped algorithms first pull
  // toward `newest_anchor`; blocking ones ignore it.
  std::span<const Scalar> Contribution(std::span<const Scalar> newest_anchor);
  // Blocking algorithms: adopts the anchor the round produced.
  void FinishRound(std::span<const Scalar> anchor);
  // Takes an anchor outside the round flow (a worker's first anchor).
  void Start(std::span<const Scalar> anchor) { learner_->Adopt(anchor); }

  const RoundOptions& options() const { return options_; }

 private:
  Learner<Scalar>* learner_;
  RoundOptions options_;
  AlgorithmTraits traits_;
  std::vector<Scalar> gradient_;  // minibatch SGD: sum, then mean
};

}  // namespace anchorage::algo
