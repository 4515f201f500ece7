#include "common/codec/bf16_codec.h"

#include <bit>
#include <cstring>
#include <string>

#include "common/codec/half_width.h"

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
  return internal::EncodeHalfWidth("bf16", dim_, values, out,
                                   [](float x) { return FloatToBf16(x); });
}

Status Bf16Codec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  return internal::DecodeHalfWidth("bf16", dim_, bytes, out, [](uint16_t half) {
    return std::bit_cast<float>(static_cast<uint32_t>(half) << 16);
  });
}

}  // namespace anchorage::codec
