// Learner: one worker's local state as the algorithm core sees it: a model
// it can step, a gradient it can sample, and the anchor operations. The
// real Trainer (float models on data) and the simulator's objective
// learners (synthetic objectives, float or double) implement it, so the
// round logic (worker_round.h) is written once.
//
// Not thread-safe: owned by one worker's compute thread.
#pragma once

#include <cstdint>
#include <span>

namespace anchorage::algo {

template <typename Scalar>
class Learner {
 public:
  virtual ~Learner() = default;

  virtual int64_t dim() const = 0;
  // Examples one step or one gradient sample consumes.
  virtual int batch_size() const = 0;
  // The local learning rate γ of the next step.
  virtual double learning_rate() const = 0;
  // Moves the learning-rate schedule forward to `step` when it is behind
  // (never back).
  virtual void CatchUpSchedule(int64_t step) = 0;

  // One local optimizer step on the next minibatch; returns its loss.
  virtual double Step() = 0;
  // Adds the gradient of the next minibatch at the current parameters to
  // `sum` without moving. Returns the minibatch loss.
  virtual double AccumulateGradient(std::span<Scalar> sum) = 0;

  virtual std::span<const Scalar> params() const = 0;
  // x ← (1 − α)·x + α·z.
  virtual void Pull(std::span<const Scalar> anchor, Scalar alpha) = 0;
  // x ← z.
  virtual void Adopt(std::span<const Scalar> anchor) = 0;
  // Zeroes the local optimizer's momentum buffer.
  virtual void ResetMomentum() = 0;
};

}  // namespace anchorage::algo
