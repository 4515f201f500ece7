// Sgd: the local optimizer a worker runs between synchronisations: SGD with
// optional heavy-ball or Nesterov momentum, L2 weight decay added to the
// gradient, and a learning-rate schedule of linear warm-up and step decay.
//
// One step with gradient g at parameters x:
//   d = g + weight_decay * x
//   v = momentum * v + d
//   update = nesterov ? d + momentum * v : v   (plain SGD when momentum = 0)
//   x -= lr_t * update
// where lr_t is learning_rate() before the step.
//
// Not thread-safe: one instance per model replica.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "common/base/status.h"
#include "common/tensor/tensor.h"

namespace anchorage::optim {

struct SgdOptions {
  // Base learning rate gamma; > 0.
  float lr = 0.05F;
  // Heavy-ball momentum mu, in [0, 1).
  float momentum = 0.0F;
  // Nesterov's variant of the momentum update.
  bool nesterov = false;
  // L2 coefficient added to the gradient: d = g + weight_decay * x; >= 0.
  float weight_decay = 0.0F;
  // Linear warm-up: step t < warmup_steps uses lr * (t + 1) / warmup_steps,
  // so lr / warmup_steps first and lr from step warmup_steps - 1 on; >= 0.
  int64_t warmup_steps = 0;
  // Milestones in steps, strictly ascending and >= 0: the learning rate of
  // step t (0-based) is multiplied by decay_factor once for each milestone
  // <= t.
  std::vector<int64_t> decay_steps;
  // In (0, 1].
  float decay_factor = 0.1F;

  // Returns kInvalidArgument naming the first bad field and its value.
  Status Validate() const;
};

// The learning rate of step `step` (0-based) under `options`' warm-up and
// decay schedule.
float ScheduledLearningRate(const SgdOptions& options, int64_t step);

// Templated on the scalar so theory checks can run the same optimizer in
// double; the service runs Sgd (float).
template <typename Scalar>
class BasicSgd {
 public:
  using VectorType = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  // Starts at step 0 with zero momentum for `dim` parameters. `options`
  // must pass Validate() (checked: a bad value here is a bug in the caller).
  BasicSgd(const SgdOptions& options, int64_t dim);

  // Learning rate of the next step (warm-up and decay applied).
  float learning_rate() const { return ScheduledLearningRate(options_, step_); }
  // Steps taken.
  int64_t step() const { return step_; }
  // The schedule moves to `step` when it is behind; momentum is kept.
  void CatchUp(int64_t step) { step_ = std::max(step_, step); }

  // Applies one update to `params` with gradient `grad` (both of size dim)
  // as the file comment says, then advances step().
  void Step(std::span<Scalar> params, std::span<const Scalar> grad);

  // Zeroes the momentum buffer v (e.g. after the model is replaced by an
  // averaged one); keeps the step count and so the schedule.
  void ResetMomentum();

  // The buffer v of size dim, as of the last step. With momentum = 0 it is
  // the last d, as the update formula says.
  std::span<const Scalar> momentum_buffer() const {
    return {velocity_.data(), static_cast<size_t>(velocity_.size())};
  }

 private:
  SgdOptions options_;
  int64_t step_ = 0;
  VectorType velocity_;
};

using Sgd = BasicSgd<float>;

}  // namespace anchorage::optim
