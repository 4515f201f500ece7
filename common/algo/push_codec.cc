#include "common/algo/push_codec.h"

#include <utility>

#include "common/base/check.h"
#include "common/tensor/tensor.h"

namespace anchorage::algo {

bool PushIsRelative(Algorithm algorithm, const codec::Codec& codec) {
  return !TraitsOf(algorithm).sends_gradient && !codec.lossless();
}

PushEncoder::PushEncoder(Algorithm algorithm,
                         std::unique_ptr<codec::Codec> codec)
    : codec_(std::move(codec)), relative_(PushIsRelative(algorithm, *codec_)) {
  if (relative_) delta_.resize(static_cast<size_t>(codec_->dim()));
}

Status PushEncoder::Encode(std::span<const float> base,
                           std::span<const float> contribution,
                           std::vector<uint8_t>* out) {
  const auto dim = static_cast<size_t>(codec_->dim());
  if (contribution.size() != dim || (relative_ && base.size() != dim)) {
    return Status::InvalidArgument(
        "push of " + std::to_string(contribution.size()) +
        " values against a base of " + std::to_string(base.size()) +
        ", expected " + std::to_string(dim));
  }
  if (relative_) {
    AsVector(std::span<float>(delta_)) =
        AsVector(base) - AsVector(contribution);
  }
  Status status = codec_->Encode(relative_ ? delta_ : contribution, out);
  if (status.ok()) return status;
  return Status::FailedPrecondition(status.message() +
                                    " (training diverged; try a lower --lr)");
}

Status DecodePush(const codec::Codec& codec, bool relative,
                  std::span<const float> base, std::span<const uint8_t> bytes,
                  std::span<float> out) {
  Status status = codec.Decode(bytes, out);
  if (!status.ok() || !relative) return status;
  ANCHORAGE_CHECK(base.size() == out.size(), "push base of the wrong size");
  AsVector(out) = AsVector(base) - AsVector(std::span<const float>(out));
  return Status::Ok();
}

}  // namespace anchorage::algo
