#include "common/codec/dense_codec.h"

#include <bit>
#include <cstring>
#include <string>

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the dense wire format is little-endian float32");

Status DenseCodec::Encode(std::span<const float> values,
                          std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "dense codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  out->resize(values.size_bytes());
  std::memcpy(out->data(), values.data(), values.size_bytes());
  return Status::Ok();
}

Status DenseCodec::Decode(std::span<const uint8_t> bytes,
                          std::span<float> out) const {
  const auto expected = static_cast<size_t>(raw_bytes());
  if (bytes.size() != expected || out.size_bytes() != expected) {
    return Status::DataLoss("dense payload has " +
                            std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(expected) + " for dimension " +
                            std::to_string(dim_));
  }
  std::memcpy(out.data(), bytes.data(), expected);
  return Status::Ok();
}

}  // namespace anchorage::codec
