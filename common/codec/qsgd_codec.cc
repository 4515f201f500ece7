#include "common/codec/qsgd_codec.h"

#include <string>

namespace anchorage::codec {

QsgdCodec::QsgdCodec(int64_t dim, int bits, int64_t bucket, uint64_t seed)
    : dim_(dim),
      bits_(bits),
      bucket_(QuantizationBucketSize(dim, bucket)),
      rng_(seed) {
  ANCHORAGE_CHECK(bits >= kMinQuantizedBits && bits <= kMaxQuantizedBits,
                  "qsgd bits out of range");
  ANCHORAGE_CHECK(dim > 0 && bucket >= 0, "qsgd dimension or bucket invalid");
}

std::string QsgdCodec::settings() const {
  return std::to_string(bits_) + "-bit quantiser with buckets of " +
         std::to_string(bucket_);
}

Status QsgdCodec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "qsgd codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  double norm = 0;
  Status status =
      QuantizationNorms(values, bucket_, "qsgd codec", &norms_, &norm);
  if (!status.ok()) return status;
  EncodeQuantized(values, norms_, bucket_, bits_, &rng_, out);
  return Status::Ok();
}

Status QsgdCodec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("qsgd codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  return DecodeQuantized(bytes, "qsgd", bits_, bucket_, out);
}

}  // namespace anchorage::codec
