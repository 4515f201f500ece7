#include "common/algo/aggregator.h"

#include <algorithm>
#include <string>

namespace anchorage::algo {

Aggregator::Aggregator(const AggregatorOptions& options,
                       std::span<const float> initial_anchor)
    : options_(options),
      anchor_(initial_anchor.begin(), initial_anchor.end()),
      sum_(initial_anchor.size(), 0.0F) {
  if (options_.beta > 0.0) velocity_.assign(anchor_.size(), 0.0F);
}

Status Aggregator::AddWorker(uint32_t id) {
  if (workers_.contains(id)) {
    return Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " is already registered");
  }
  if (options_.mode == AggregationMode::kAsync) {
    workers_.emplace(id, anchor_);
    Resum();
  } else {
    workers_.emplace(id, std::vector<float>(anchor_.size()));
  }
  return Status::Ok();
}

Status Aggregator::RemoveWorker(uint32_t id) {
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
    const std::vector<float>& slot = it->second;
    for (size_t i = 0; i < slot.size(); ++i) sum_[i] -= slot[i];
  }
  workers_.erase(it);
  return Status::Ok();
}

Status Aggregator::Submit(uint32_t id, uint64_t round,
                          std::vector<float>* contribution) {
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
  std::vector<float>& slot = it->second;
  const float* incoming = contribution->data();
  if (options_.mode == AggregationMode::kAsync) {
    const auto count = static_cast<double>(workers_.size());
    if (velocity_.empty()) {
      // β = 0: the anchor is the mean, updated in the same pass.
      const auto inverse = static_cast<float>(1.0 / count);
      for (size_t i = 0; i < slot.size(); ++i) {
        const float sum = sum_[i] + (incoming[i] - slot[i]);
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
    if (!velocity_.empty() || arrivals_since_resum_ == 0) ApplyOuter(count);
    ++version_;
    return Status::Ok();
  }
  if (round != round_) {
    return Status::FailedPrecondition(
        "contribution for round " + std::to_string(round) +
        " while round " + std::to_string(round_) + " is open");
  }
  if (round_members_.contains(id)) {
    return Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " already contributed to round " +
                                      std::to_string(round));
  }
  for (size_t i = 0; i < slot.size(); ++i) sum_[i] += incoming[i];
  slot.swap(*contribution);
  round_members_.insert(id);
  return Status::Ok();
}

void Aggregator::CloseRound() {
  ANCHORAGE_CHECK(options_.mode == AggregationMode::kSync,
                  "CloseRound in async mode");
  if (!round_members_.empty()) {
    ApplyOuter(static_cast<double>(round_members_.size()));
    ++version_;
  }
  std::fill(sum_.begin(), sum_.end(), 0.0F);
  round_members_.clear();
  ++round_;
}

void Aggregator::Resum() {
  std::fill(sum_.begin(), sum_.end(), 0.0F);
  for (const auto& [id, slot] : workers_) {
    for (size_t i = 0; i < slot.size(); ++i) sum_[i] += slot[i];
  }
  arrivals_since_resum_ = 0;
}

void Aggregator::ApplyOuter(double count) {
  const auto inverse = static_cast<float>(1.0 / count);
  if (velocity_.empty()) {
    for (size_t i = 0; i < anchor_.size(); ++i) anchor_[i] = sum_[i] * inverse;
    return;
  }
  const auto beta = static_cast<float>(options_.beta);
  for (size_t i = 0; i < anchor_.size(); ++i) {
    const float target = sum_[i] * inverse;
    velocity_[i] = beta * velocity_[i] + (anchor_[i] - target);
    anchor_[i] -= velocity_[i];
  }
}

}  // namespace anchorage::algo
