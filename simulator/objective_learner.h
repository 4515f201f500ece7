// A Learner over a synthetic objective (quadratics, logistic tasks): worker
// `worker` of `objective`, stepping with BasicSgd in the objective's
// scalar. Lets the simulator run the theory checks of ALGORITHMS.md in
// double with the same round and aggregation code as real training.
//
// Not thread-safe; `objective` must outlive it.
#pragma once

#include <algorithm>
#include <random>
#include <span>
#include <vector>

#include "common/algo/learner.h"
#include "common/objective/objective.h"
#include "common/optim/sgd.h"

namespace anchorage::simulator {

template <typename Scalar>
class ObjectiveLearner final : public algo::Learner<Scalar> {
 public:
  // The noise stream is a mt19937_64 seeded with `seed`.
  ObjectiveLearner(const objective::Objective<Scalar>* objective, int worker,
                   const optim::SgdOptions& sgd,
                   std::span<const Scalar> initial, uint64_t seed)
      : objective_(objective),
        worker_(worker),
        sgd_(sgd, static_cast<int64_t>(initial.size())),
        params_(initial.begin(), initial.end()),
        grad_(initial.size()),
        rng_(seed) {}

  int64_t dim() const override { return static_cast<int64_t>(params_.size()); }
  int batch_size() const override { return 1; }
  double learning_rate() const override { return sgd_.learning_rate(); }

  double Step() override {
    const Scalar loss =
        objective_->StochasticGradient(worker_, params_, rng_, grad_);
    sgd_.Step(params_, grad_);
    return static_cast<double>(loss);
  }

  double AccumulateGradient(std::span<Scalar> sum) override {
    const Scalar loss =
        objective_->StochasticGradient(worker_, params_, rng_, grad_);
    for (size_t i = 0; i < grad_.size(); ++i)
      sum[i] += grad_[i];
    return static_cast<double>(loss);
  }

  std::span<const Scalar> params() const override { return params_; }

  void Pull(std::span<const Scalar> anchor, Scalar alpha) override {
    for (size_t i = 0; i < params_.size(); ++i) {
      params_[i] = (Scalar(1) - alpha) * params_[i] + alpha * anchor[i];
    }
  }

  void Adopt(std::span<const Scalar> anchor) override {
    std::copy(anchor.begin(), anchor.end(), params_.begin());
  }

  void ResetMomentum() override { sgd_.ResetMomentum(); }
  void CatchUpSchedule(int64_t step) override { sgd_.CatchUp(step); }

 private:
  const objective::Objective<Scalar>* objective_;
  int worker_;
  optim::BasicSgd<Scalar> sgd_;
  std::vector<Scalar> params_;
  std::vector<Scalar> grad_;
  std::mt19937_64 rng_;
};

}  // namespace anchorage::simulator
