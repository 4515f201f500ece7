#include "common/algo/sketch_step.h"

#include <algorithm>
#include <utility>

#include "common/base/check.h"
#include "common/codec/sketch_codec.h"

namespace anchorage::algo {

std::unique_ptr<SketchStep> SketchStep::For(const codec::Codec& codec,
                                            bool relative, double momentum) {
  if (const auto* sketch = dynamic_cast<const codec::SketchCodec*>(&codec)) {
    return std::unique_ptr<SketchStep>(new SketchStep(
        std::make_unique<codec::SketchedSgdRound>(sketch->shape(), sketch->k(),
                                                  sketch->candidates_factor()),
        nullptr, relative));
  }
  if (const auto* fetch = dynamic_cast<const codec::FetchSgdCodec*>(&codec)) {
    return std::unique_ptr<SketchStep>(
        new SketchStep(nullptr,
                       std::make_unique<codec::FetchSgdServer>(
                           fetch->shape(), fetch->k(), momentum),
                       relative));
  }
  return nullptr;
}

SketchStep::SketchStep(std::unique_ptr<codec::SketchedSgdRound> sketched,
                       std::unique_ptr<codec::FetchSgdServer> fetch,
                       bool relative)
    : sketched_(std::move(sketched)),
      fetch_(std::move(fetch)),
      relative_(relative) {}

void SketchStep::Begin() {
  if (sketched_ != nullptr) sketched_->Begin();
  if (fetch_ != nullptr) fetch_->Begin();
}

Status SketchStep::AddSketch(std::span<const uint8_t> bytes) {
  return sketched_ != nullptr ? sketched_->AddSketch(bytes)
                              : fetch_->AddSketch(bytes);
}

const std::vector<uint32_t>& SketchStep::Candidates() {
  ANCHORAGE_CHECK(sketched_ != nullptr, "Candidates of a fetchsgd step");
  return sketched_->Candidates();
}

Status SketchStep::AddExact(std::span<const uint8_t> bytes) {
  ANCHORAGE_CHECK(sketched_ != nullptr, "AddExact to a fetchsgd step");
  return sketched_->AddExact(bytes);
}

const std::vector<uint32_t>& SketchStep::Finish(Aggregator* aggregator) {
  if (sketched_ != nullptr) {
    sketched_->Finish(&indices_, &values_);
  } else {
    fetch_->Finish(1.0, &indices_, &values_);
  }
  aggregator->AddToRoundSum(indices_, values_, relative_ ? -1.0F : 1.0F);
  return indices_;
}

void SketchStep::Placeholder(std::span<const float> base,
                             std::span<float> out) const {
  if (relative_) {
    std::copy(base.begin(), base.end(), out.begin());
  } else {
    std::fill(out.begin(), out.end(), 0.0F);
  }
}

}  // namespace anchorage::algo
