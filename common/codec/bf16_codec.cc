#include "common/codec/bf16_codec.h"

#include <bit>
#include <cstring>
#include <string>

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the bf16 wire format is little-endian");

namespace {

// Branch-free (selects only) so the encode loop vectorises.
uint16_t FloatToBf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t magnitude = bits & 0x7fffffffU;
  // Round to nearest even on the low 16 bits; a carry bumps the exponent,
  // up to infinity for the largest finite floats. Cannot wrap for non-NaN.
  const uint32_t rounded = (bits + 0x7fffU + ((bits >> 16) & 1U)) >> 16;
  const uint32_t saturated = ((bits >> 16) & 0x8000U) | 0x7f7fU;
  const uint32_t quiet_nan = (bits >> 16) | 0x0040U;
  uint32_t result = rounded;
  result = magnitude < 0x7f800000U && (rounded & 0x7fffU) == 0x7f80U ? saturated
                                                                     : result;
  result = magnitude > 0x7f800000U ? quiet_nan : result;
  return static_cast<uint16_t>(result);
}

}  // namespace

Status Bf16Codec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "bf16 codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  out->resize(values.size() * 2);
  uint8_t* bytes = out->data();
  const float* x = values.data();
  const size_t size = values.size();
  for (size_t i = 0; i < size; ++i) {
    const uint16_t half = FloatToBf16(x[i]);
    std::memcpy(bytes + 2 * i, &half, 2);
  }
  return Status::Ok();
}

Status Bf16Codec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("bf16 codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  const size_t expected = out.size() * 2;
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "bf16 payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") +
        "; 2 bytes per coordinate, dimension " + std::to_string(dim_) + ")");
  }
  const uint8_t* in = bytes.data();
  float* y = out.data();
  const size_t size = out.size();
  for (size_t i = 0; i < size; ++i) {
    uint16_t half = 0;
    std::memcpy(&half, in + 2 * i, 2);
    y[i] = std::bit_cast<float>(static_cast<uint32_t>(half) << 16);
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
