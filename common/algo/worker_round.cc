#include "common/algo/worker_round.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace anchorage::algo {

template <typename Scalar>
WorkerRound<Scalar>::WorkerRound(Learner<Scalar>* learner,
                                 const RoundOptions& options)
    : learner_(learner),
      options_(options),
      traits_(TraitsOf(options.algorithm)) {
  if (traits_.sends_gradient) {
    gradient_.resize(static_cast<size_t>(learner->dim()));
  }
}

template <typename Scalar>
double WorkerRound<Scalar>::Compute(uint64_t run_step) {
  learner_->CatchUpSchedule(static_cast<int64_t>(
      std::min<uint64_t>(run_step, std::numeric_limits<int64_t>::max())));
  double loss = 0;
  if (traits_.sends_gradient) {
    std::fill(gradient_.begin(), gradient_.end(), static_cast<Scalar>(0));
    for (int step = 0; step < options_.local_steps; ++step) {
      loss += learner_->AccumulateGradient(gradient_);
    }
  } else {
    for (int step = 0; step < options_.local_steps; ++step) {
      loss += learner_->Step();
    }
  }
  return loss / options_.local_steps;
}

template <typename Scalar>
std::span<const Scalar> WorkerRound<Scalar>::Contribution(
    std::span<const Scalar> newest_anchor) {
  if (traits_.sends_gradient) {
    const auto inverse = static_cast<Scalar>(1.0 / options_.local_steps);
    for (Scalar& g : gradient_) {
      g *= inverse;
    }
    return gradient_;
  }
  if (traits_.overlapped) {
    learner_->Pull(newest_anchor, static_cast<Scalar>(options_.alpha));
  }
  return learner_->params();
}

template <typename Scalar>
void WorkerRound<Scalar>::FinishRound(std::span<const Scalar> anchor) {
  learner_->Adopt(anchor);
  if (options_.reset_momentum) learner_->ResetMomentum();
}

template class WorkerRound<float>;
template class WorkerRound<double>;

}  // namespace anchorage::algo
