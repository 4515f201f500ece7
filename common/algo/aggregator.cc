#include "common/algo/aggregator.h"

#include <algorithm>
#include <string>

namespace anchorage::algo {

template <typename Scalar>
BasicAggregator<Scalar>::BasicAggregator(const AggregatorOptions& options,
                                         std::span<const Scalar> initial_anchor)
    : options_(options),
      rule_(options.outer, static_cast<int64_t>(initial_anchor.size())),
      anchor_(initial_anchor.begin(), initial_anchor.end()),
      sum_(initial_anchor.size(), Scalar(0)) {
  if (!rule_.is_plain_average()) target_.resize(anchor_.size());
}

template <typename Scalar>
Status BasicAggregator<Scalar>::AddWorker(uint32_t id) {
  if (workers_.contains(id)) {
    return Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " is already registered");
  }
  if (options_.mode == AggregationMode::kAsync) {
    workers_.emplace(id, anchor_);
    Resum();
  } else {
    workers_.emplace(id, std::vector<Scalar>(anchor_.size()));
  }
  return Status::Ok();
}

template <typename Scalar>
Status BasicAggregator<Scalar>::RemoveWorker(uint32_t id) {
  auto it = workers_.find(id);
  if (it == workers_.end()) {
    return Status::NotFound("worker " + std::to_string(id) +
                            " is not registered");
  }
  if (options_.mode == AggregationMode::kAsync) {
    workers_.erase(it);
    if (!workers_.empty()) {
      Resum();
      ApplyOuter(static_cast<double>(workers_.size()));
      ++version_;
    }
    return Status::Ok();
  }
  if (round_members_.erase(id) > 0) {
    const std::vector<Scalar>& slot = it->second;
    for (size_t i = 0; i < slot.size(); ++i)
      sum_[i] -= slot[i];
  }
  workers_.erase(it);
  return Status::Ok();
}

template <typename Scalar>
Status BasicAggregator<Scalar>::Submit(uint32_t id, uint64_t round,
                                       std::vector<Scalar>* contribution) {
  if (static_cast<int64_t>(contribution->size()) != dim()) {
    return Status::InvalidArgument(
        "contribution of " + std::to_string(contribution->size()) +
        " values, model dimension is " + std::to_string(dim()));
  }
  auto it = workers_.find(id);
  if (it == workers_.end()) {
    return Status::NotFound("worker " + std::to_string(id) +
                            " is not registered");
  }
  std::vector<Scalar>& slot = it->second;
  const Scalar* incoming = contribution->data();
  if (options_.mode == AggregationMode::kAsync) {
    const auto count = static_cast<double>(workers_.size());
    const bool plain = rule_.is_plain_average();
    if (plain) {
      // The anchor is the mean, updated in the same pass.
      const auto inverse = static_cast<Scalar>(1.0 / count);
      for (size_t i = 0; i < slot.size(); ++i) {
        const Scalar sum = sum_[i] + (incoming[i] - slot[i]);
        sum_[i] = sum;
        anchor_[i] = sum * inverse;
      }
    } else {
      for (size_t i = 0; i < slot.size(); ++i) {
        sum_[i] += incoming[i] - slot[i];
      }
    }
    slot.swap(*contribution);
    if (++arrivals_since_resum_ >= kResumInterval) Resum();
    if (!plain || arrivals_since_resum_ == 0) ApplyOuter(count);
    ++version_;
    return Status::Ok();
  }
  if (round != round_) {
    return Status::FailedPrecondition("contribution for round " +
                                      std::to_string(round) + " while round " +
                                      std::to_string(round_) + " is open");
  }
  if (round_members_.contains(id)) {
    return Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " already contributed to round " +
                                      std::to_string(round));
  }
  for (size_t i = 0; i < slot.size(); ++i)
    sum_[i] += incoming[i];
  slot.swap(*contribution);
  round_members_.insert(id);
  return Status::Ok();
}

template <typename Scalar>
void BasicAggregator<Scalar>::AddToRoundSum(std::span<const uint32_t> indices,
                                            std::span<const float> values,
                                            Scalar sign) {
  ANCHORAGE_CHECK(options_.mode == AggregationMode::kSync,
                  "AddToRoundSum in async mode");
  ANCHORAGE_CHECK(indices.size() == values.size(),
                  "AddToRoundSum: indices and values differ in size");
  for (size_t j = 0; j < indices.size(); ++j) {
    ANCHORAGE_CHECK(indices[j] < sum_.size(), "AddToRoundSum: index >= dim");
    sum_[indices[j]] += sign * static_cast<Scalar>(values[j]);
  }
}

template <typename Scalar>
void BasicAggregator<Scalar>::CloseRound() {
  ANCHORAGE_CHECK(options_.mode == AggregationMode::kSync,
                  "CloseRound in async mode");
  if (!round_members_.empty()) {
    ApplyOuter(static_cast<double>(round_members_.size()));
    ++version_;
  }
  std::fill(sum_.begin(), sum_.end(), Scalar(0));
  round_members_.clear();
  ++round_;
}

template <typename Scalar>
void BasicAggregator<Scalar>::Resum() {
  std::fill(sum_.begin(), sum_.end(), Scalar(0));
  for (const auto& [id, slot] : workers_) {
    for (size_t i = 0; i < slot.size(); ++i)
      sum_[i] += slot[i];
  }
  arrivals_since_resum_ = 0;
}

template <typename Scalar>
void BasicAggregator<Scalar>::ApplyOuter(double count) {
  const auto inverse = static_cast<Scalar>(1.0 / count);
  if (rule_.is_plain_average()) {
    for (size_t i = 0; i < anchor_.size(); ++i)
      anchor_[i] = sum_[i] * inverse;
    return;
  }
  for (size_t i = 0; i < anchor_.size(); ++i)
    target_[i] = sum_[i] * inverse;
  rule_.Apply(anchor_, target_, lr_);
}

template class BasicAggregator<float>;
template class BasicAggregator<double>;

}  // namespace anchorage::algo
