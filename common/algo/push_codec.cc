#include "common/algo/push_codec.h"

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "common/base/check.h"
#include "common/tensor/tensor.h"

namespace anchorage::algo {

bool PushIsRelative(Algorithm algorithm, const codec::Codec& codec) {
  return !TraitsOf(algorithm).sends_gradient && !codec.lossless();
}

template <typename Scalar>
BasicPushEncoder<Scalar>::BasicPushEncoder(Algorithm algorithm,
                                           std::unique_ptr<codec::Codec> codec)
    : codec_(std::move(codec)), relative_(PushIsRelative(algorithm, *codec_)) {
  if constexpr (!std::is_same_v<Scalar, float>) {
    ANCHORAGE_CHECK(codec_->lossless(),
                    "double-precision pushes need a lossless codec");
  }
  if (relative_) delta_.resize(static_cast<size_t>(codec_->dim()));
}

template <typename Scalar>
Status BasicPushEncoder<Scalar>::Encode(std::span<const Scalar> base,
                                        std::span<const Scalar> contribution,
                                        std::vector<uint8_t>* out) {
  const auto dim = static_cast<size_t>(codec_->dim());
  if (contribution.size() != dim || (relative_ && base.size() != dim)) {
    return Status::InvalidArgument(
        "push of " + std::to_string(contribution.size()) +
        " values against a base of " + std::to_string(base.size()) +
        ", expected " + std::to_string(dim));
  }
  if constexpr (!std::is_same_v<Scalar, float>) {
    out->resize(contribution.size_bytes());
    std::memcpy(out->data(), contribution.data(), out->size());
    return Status::Ok();
  } else {
    if (relative_) {
      AsVector(std::span<float>{delta_}) =
          AsVector(base) - AsVector(contribution);
    }
    Status status = codec_->Encode(relative_ ? delta_ : contribution, out);
    if (status.ok()) return status;
    return Status::FailedPrecondition(status.message() +
                                      " (training diverged; try a lower --lr)");
  }
}

template <typename Scalar>
Status DecodePush(const codec::Codec& codec, bool relative,
                  std::span<const Scalar> base, std::span<const uint8_t> bytes,
                  std::span<Scalar> out) {
  if constexpr (!std::is_same_v<Scalar, float>) {
    if (bytes.size() != out.size_bytes()) {
      return Status::DataLoss("push of " + std::to_string(bytes.size()) +
                              " bytes, expected " +
                              std::to_string(out.size_bytes()));
    }
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return Status::Ok();
  } else {
    Status status = codec.Decode(bytes, out);
    if (!status.ok() || !relative) return status;
    ANCHORAGE_CHECK(base.size() == out.size(), "push base of the wrong size");
    AsVector(out) = AsVector(base) - AsVector(std::span<const float>(out));
    return Status::Ok();
  }
}

template class BasicPushEncoder<float>;
template class BasicPushEncoder<double>;
template Status DecodePush<float>(const codec::Codec&, bool,
                                  std::span<const float>,
                                  std::span<const uint8_t>, std::span<float>);
template Status DecodePush<double>(const codec::Codec&, bool,
                                   std::span<const double>,
                                   std::span<const uint8_t>, std::span<double>);

}  // namespace anchorage::algo
