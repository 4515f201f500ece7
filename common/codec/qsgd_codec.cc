#include "common/codec/qsgd_codec.h"

#include <string>

namespace anchorage::codec {

QsgdCodec::QsgdCodec(int64_t dim, int bits, uint64_t seed)
    : dim_(dim), bits_(bits), rng_(seed) {
  ANCHORAGE_CHECK(bits >= kMinQuantizedBits && bits <= kMaxQuantizedBits,
                  "qsgd bits out of range");
}

Status QsgdCodec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "qsgd codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  float norm = 0;
  Status status = QuantizationNorm(values, "qsgd codec", &norm);
  if (!status.ok()) return status;
  EncodeQuantized(values, norm, bits_, &rng_, out);
  return Status::Ok();
}

Status QsgdCodec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("qsgd codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  return DecodeQuantized(bytes, "qsgd", bits_, out);
}

}  // namespace anchorage::codec
