#include "common/algo/aggregator.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace anchorage::algo {

template <typename Scalar>
BasicAggregator<Scalar>::BasicAggregator(const AggregatorOptions& options,
                                         std::span<const Scalar> initial_anchor)
    : options_(options),
      rule_(options.outer, static_cast<int64_t>(initial_anchor.size())),
      anchor_(initial_anchor.begin(), initial_anchor.end()),
      sum_(initial_anchor.size(), static_cast<Scalar>(0)) {
  if (!rule_.is_plain_average()) target_.resize(anchor_.size());
  if (!rule_.is_plain_average() && options_.mode == AggregationMode::kAsync) {
    step_anchor_ = anchor_;
    offset_.assign(anchor_.size(), static_cast<Scalar>(0));
    next_offset_.resize(anchor_.size());
  }
}

template <typename Scalar>
Status BasicAggregator<Scalar>::AddWorker(uint32_t id) {
  if (workers_.contains(id)) {
    return Status::FailedPrecondition("worker " + std::to_string(id) +
                                      " is already registered");
  }
  if (options_.mode == AggregationMode::kAsync) {
    // The new slot is the anchor, shared with the others who joined at
    // this version: added to the sum in O(d), the anchor stays where it is.
    if (joined_ == nullptr || joined_version_ != version_) {
      joined_ = std::make_shared<std::vector<Scalar>>(anchor_);
      joined_version_ = version_;
    }
    workers_.emplace(id, joined_);
    for (size_t i = 0; i < sum_.size(); ++i) {
      sum_[i] += anchor_[i];
    }
  } else {
    workers_.emplace(id, nullptr);
  }
  return Status::Ok();
}

template <typename Scalar>
std::vector<Scalar>& BasicAggregator<Scalar>::Own(Slot& slot) {
  if (slot == nullptr || slot.use_count() > 1) {
    slot = std::make_shared<std::vector<Scalar>>(anchor_.size());
  }
  return *slot;
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
    Resum();
    if (!workers_.empty() &&
        ApplyOuter(sum_, static_cast<double>(workers_.size()))) {
      ++version_;
    }
    return Status::Ok();
  }
  round_members_.erase(id);
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
  if (options_.mode == AggregationMode::kAsync) {
    const std::vector<Scalar>& slot = *it->second;
    // The sum with this contribution in the slot: incremental, or rebuilt
    // from the slots every kResumInterval arrivals so rounding cannot
    // drift. Nothing changes until the new anchor is known to be finite.
    next_sum_.resize(sum_.size());
    const bool resum = arrivals_since_resum_ + 1 >= kResumInterval;
    if (resum) {
      SumSlots(id, *contribution, &next_sum_);
    } else {
      const Scalar* incoming = contribution->data();
      for (size_t i = 0; i < slot.size(); ++i) {
        next_sum_[i] = sum_[i] + (incoming[i] - slot[i]);
      }
    }
    if (!ApplyOuter(next_sum_, static_cast<double>(workers_.size()),
                    /*arrival=*/true)) {
      return Status::OutOfRange(
          "the contribution would make the anchor non-finite");
    }
    sum_.swap(next_sum_);
    Own(it->second).swap(*contribution);
    arrivals_since_resum_ = resum ? 0 : arrivals_since_resum_ + 1;
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
  Own(it->second).swap(*contribution);
  round_members_.insert(id);
  return Status::Ok();
}

template <typename Scalar>
bool BasicAggregator<Scalar>::CloseRound(const SparseUpdate* update) {
  ANCHORAGE_CHECK(options_.mode == AggregationMode::kSync,
                  "CloseRound in async mode");
  bool published = true;
  if (!round_members_.empty()) {
    if (options_.combine == CombineRule::kMean) {
      std::fill(sum_.begin(), sum_.end(), static_cast<Scalar>(0));
      for (const uint32_t id : round_members_) {
        const std::vector<Scalar>& slot = *workers_.at(id);
        for (size_t i = 0; i < slot.size(); ++i) {
          sum_[i] += slot[i];
        }
      }
    } else {
      CombineRobustly();
    }
    if (update != nullptr) {
      ANCHORAGE_CHECK(update->indices.size() == update->values.size(),
                      "sparse update: indices and values differ in size");
      for (size_t j = 0; j < update->indices.size(); ++j) {
        ANCHORAGE_CHECK(update->indices[j] < sum_.size(),
                        "sparse update: index >= dim");
        sum_[update->indices[j]] +=
            update->sign * static_cast<Scalar>(update->values[j]);
      }
    }
    published = ApplyOuter(sum_, static_cast<double>(round_members_.size()));
    if (published) ++version_;
  }
  round_members_.clear();
  ++round_;
  return published;
}

template <typename Scalar>
void BasicAggregator<Scalar>::CombineRobustly() {
  std::vector<const Scalar*> slots;
  for (const uint32_t id : round_members_) {
    slots.push_back(workers_.at(id)->data());
  }
  const size_t n = slots.size();
  const size_t cut =
      options_.combine == CombineRule::kMedian
          ? 0
          : static_cast<size_t>(options_.trim * static_cast<double>(n));
  // A block of coordinates at a time, gathered coordinate-major, so each
  // coordinate's n values are selected in one small contiguous array.
  constexpr size_t kBlock = 256;
  std::vector<Scalar> values(n * kBlock);
  for (size_t start = 0; start < sum_.size(); start += kBlock) {
    const size_t width = std::min(kBlock, sum_.size() - start);
    for (size_t j = 0; j < n; ++j) {
      for (size_t k = 0; k < width; ++k) {
        values[k * n + j] = slots[j][start + k];
      }
    }
    for (size_t k = 0; k < width; ++k) {
      Scalar* first = values.data() + k * n;
      Scalar* last = first + n;
      Scalar value = 0;
      if (options_.combine == CombineRule::kMedian) {
        Scalar* middle = first + n / 2;
        std::nth_element(first, middle, last);
        value = *middle;
        if (n % 2 == 0) value = (value + *std::max_element(first, middle)) / 2;
      } else {
        std::sort(first, last);
        Scalar kept = 0;
        for (Scalar* v = first + cut; v < last - cut; ++v) {
          kept += *v;
        }
        value = kept / static_cast<Scalar>(n - 2 * cut);
      }
      sum_[start + k] = value * static_cast<Scalar>(n);
    }
  }
}

Status ParseCombineRule(const std::string& text, AggregatorOptions* options) {
  if (text == "mean") {
    options->combine = CombineRule::kMean;
    return Status::Ok();
  }
  if (text == "median") {
    options->combine = CombineRule::kMedian;
    return Status::Ok();
  }
  const std::string prefix = "trimmed-mean:";
  if (text.rfind(prefix, 0) == 0) {
    char* end = nullptr;
    const std::string number = text.substr(prefix.size());
    const double trim = std::strtod(number.c_str(), &end);
    if (!number.empty() && *end == '\0' && trim >= 0 && trim < 0.5) {
      options->combine = CombineRule::kTrimmedMean;
      options->trim = trim;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument(
      "'" + text +
      "' is not mean, median or trimmed-mean:F with F in [0, 0.5)");
}

template <typename Scalar>
void BasicAggregator<Scalar>::SumSlots(uint32_t replaced,
                                       std::span<const Scalar> replacement,
                                       std::vector<Scalar>* sum) const {
  std::fill(sum->begin(), sum->end(), static_cast<Scalar>(0));
  for (const auto& [id, slot] : workers_) {
    const Scalar* values = id == replaced ? replacement.data() : slot->data();
    for (size_t i = 0; i < sum->size(); ++i) {
      (*sum)[i] += values[i];
    }
  }
}

template <typename Scalar>
void BasicAggregator<Scalar>::Resum() {
  SumSlots(UINT32_MAX, {}, &sum_);
  arrivals_since_resum_ = 0;
}

template <typename Scalar>
bool BasicAggregator<Scalar>::ApplyOuter(std::span<const Scalar> sum,
                                         double count, bool arrival) {
  const auto inverse = static_cast<Scalar>(1.0 / count);
  next_anchor_.resize(anchor_.size());
  const bool async = options_.mode == AggregationMode::kAsync;
  if (async && !rule_.is_plain_average()) {
    for (size_t i = 0; i < anchor_.size(); ++i) {
      target_[i] = sum[i] * inverse;
    }
    return ApplyAsyncOuter(count, arrival);
  }
  if (rule_.is_plain_average()) {
    for (size_t i = 0; i < anchor_.size(); ++i) {
      next_anchor_[i] = sum[i] * inverse;
    }
    if (!AllFinite<Scalar>(next_anchor_)) return false;
  } else {
    for (size_t i = 0; i < anchor_.size(); ++i) {
      target_[i] = sum[i] * inverse;
    }
    if (!rule_.Propose(anchor_, target_, lr_, next_anchor_)) return false;
    rule_.Commit();
  }
  anchor_.swap(next_anchor_);
  return true;
}

template <typename Scalar>
bool BasicAggregator<Scalar>::ApplyAsyncOuter(double count, bool arrival) {
  const size_t n = anchor_.size();
  if (arrival && static_cast<double>(arrivals_since_step_ + 1) >= count) {
    // A round's worth of contributions: the rule steps from the anchor of
    // its last step toward the target.
    if (!rule_.Propose(step_anchor_, target_, lr_, next_anchor_)) {
      return false;
    }
    for (size_t i = 0; i < n; ++i) {
      next_offset_[i] = next_anchor_[i] - target_[i];
    }
    if (!AllFinite<Scalar>(next_offset_)) return false;
    rule_.Commit();
    offset_.swap(next_offset_);
    step_anchor_ = next_anchor_;
    arrivals_since_step_ = 0;
  } else {
    for (size_t i = 0; i < n; ++i) {
      next_anchor_[i] = target_[i] + offset_[i];
    }
    if (!AllFinite<Scalar>(next_anchor_)) return false;
    if (arrival) ++arrivals_since_step_;
  }
  anchor_.swap(next_anchor_);
  return true;
}

template <typename Scalar>
void BasicAggregator<Scalar>::Save(ByteWriter* out) const {
  out->Scalars<Scalar>(anchor_);
  out->U64(version_);
  out->U64(round_);
  out->F64(lr_);
  out->U64(workers_.size());
  for (const auto& [id, slot] : workers_) {
    out->U32(id);
    out->Bool(slot != nullptr);
    if (slot != nullptr) out->Scalars<Scalar>(*slot);
    out->Bool(round_members_.contains(id));
  }
  out->Scalars<Scalar>(sum_);
  out->U32(static_cast<uint32_t>(arrivals_since_resum_));
  rule_.Save(out);
  out->Scalars<Scalar>(step_anchor_);
  out->Scalars<Scalar>(offset_);
  out->I64(arrivals_since_step_);
}

template <typename Scalar>
void BasicAggregator<Scalar>::LoadSlots(ByteReader* in,
                                        std::map<uint32_t, Slot>* workers,
                                        std::set<uint32_t>* members) const {
  const auto dim = static_cast<uint64_t>(anchor_.size());
  const bool empty_allowed = options_.mode == AggregationMode::kSync;
  const uint64_t count = in->U64();
  for (uint64_t n = 0; n < count && in->ok(); ++n) {
    const uint32_t id = in->U32();
    Slot slot;
    if (in->Bool()) {
      slot = std::make_shared<std::vector<Scalar>>();
      in->Scalars(slot.get(), dim);
    }
    if (in->ok() && ((slot == nullptr ? !empty_allowed : slot->size() != dim) ||
                     workers->contains(id))) {
      in->Fail("a malformed or repeated slot of worker " + std::to_string(id));
    }
    if (in->Bool()) {
      if (in->ok() && slot == nullptr) {
        in->Fail("worker " + std::to_string(id) + " in a round without values");
      }
      members->insert(id);
    }
    workers->emplace(id, std::move(slot));
  }
}

template <typename Scalar>
Status BasicAggregator<Scalar>::Load(ByteReader* in) {
  const auto dim = static_cast<uint64_t>(anchor_.size());
  std::vector<Scalar> anchor;
  in->Scalars(&anchor, dim);
  if (in->ok() && anchor.size() != dim) {
    in->Fail("an anchor of " + std::to_string(anchor.size()) +
             " values for a model of " + std::to_string(dim));
  }
  const uint64_t version = in->U64();
  const uint64_t round = in->U64();
  const double lr = in->F64();
  std::map<uint32_t, Slot> workers;
  std::set<uint32_t> members;
  LoadSlots(in, &workers, &members);
  std::vector<Scalar> sum;
  in->Scalars(&sum, dim);
  if (in->ok() && sum.size() != dim) in->Fail("a running sum of another size");
  const uint32_t arrivals = in->U32();
  if (in->ok() && arrivals >= kResumInterval) in->Fail("bad resum counter");
  rule_.Load(in);
  std::vector<Scalar> step_anchor;
  std::vector<Scalar> offset;
  in->Scalars(&step_anchor, step_anchor_.size());
  in->Scalars(&offset, offset_.size());
  const int64_t arrivals_since_step = in->I64();
  if (in->ok() &&
      (step_anchor.size() != step_anchor_.size() ||
       offset.size() != offset_.size() || arrivals_since_step < 0)) {
    in->Fail("an async outer step of another size");
  }
  if (!in->ok()) return in->status();
  step_anchor_ = std::move(step_anchor);
  offset_ = std::move(offset);
  arrivals_since_step_ = arrivals_since_step;
  anchor_ = std::move(anchor);
  version_ = version;
  round_ = round;
  lr_ = lr;
  workers_ = std::move(workers);
  joined_ = nullptr;
  round_members_ = std::move(members);
  sum_ = std::move(sum);
  arrivals_since_resum_ = static_cast<int>(arrivals);
  return Status::Ok();
}

template class BasicAggregator<float>;
template class BasicAggregator<double>;

}  // namespace anchorage::algo
