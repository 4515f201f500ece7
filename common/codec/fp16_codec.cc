#include "common/codec/fp16_codec.h"

#include <bit>
#include <cstring>
#include <string>

#include "common/codec/half_width.h"

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the fp16 wire format is little-endian");

namespace {

// Returns `if_true` when `condition` holds, else `if_false`, without a
// branch: GCC leaves some ?: chains as control flow, which stops the
// vectoriser.
uint32_t Select(bool condition, uint32_t if_true, uint32_t if_false) {
  const uint32_t mask = 0U - static_cast<uint32_t>(condition);
  return if_false ^ ((if_true ^ if_false) & mask);
}

// Branch-free (selects only) so the encode and decode loops vectorise. After
// F. Giesen's float_to_half_fast3_rtne / half_to_float, plus saturation.
uint16_t FloatToHalf(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (bits >> 16) & 0x8000U;
  const uint32_t magnitude = bits & 0x7fffffffU;
  // Normal halves: rebias the exponent (127 -> 15) and round the 13 dropped
  // mantissa bits to nearest even; a carry correctly bumps the exponent.
  const uint32_t normal =
      (magnitude - 0x38000000U + 0x0fffU + ((magnitude >> 13) & 1U)) >> 13;
  // Below 2^-14 (the smallest normal half): adding 0.5F aligns the half's
  // subnormal step, 2^-24, with float's last mantissa bit at 0.5, so the
  // float addition performs the round-to-nearest-even.
  const uint32_t subnormal =
      std::bit_cast<uint32_t>(std::bit_cast<float>(magnitude) + 0.5F) -
      0x3f000000U;
  uint32_t half = Select(magnitude < 0x38800000U, subnormal, normal);
  half = Select(magnitude >= 0x477ff000U, 0x7bffU, half);  // saturate
  half = Select(magnitude == 0x7f800000U, 0x7c00U, half);  // infinity
  half = Select(magnitude > 0x7f800000U, 0x7e00U, half);   // NaN
  return static_cast<uint16_t>(half | sign);
}

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000U) << 16;
  const uint32_t shifted = static_cast<uint32_t>(half & 0x7fffU) << 13;
  const uint32_t exponent = shifted & 0x0f800000U;
  const uint32_t normal = shifted + 0x38000000U;    // rebias 15 -> 127
  const uint32_t infinite = shifted + 0x70000000U;  // exponent 31 -> 255
  // Subnormal halves: build 2^-14 * (1 + m / 1024) and subtract 2^-14.
  const uint32_t subnormal = std::bit_cast<uint32_t>(
      std::bit_cast<float>(shifted + 0x38800000U) - 0x1p-14F);
  uint32_t result = Select(exponent == 0, subnormal, normal);
  result = Select(exponent == 0x0f800000U, infinite, result);
  return std::bit_cast<float>(result | sign);
}

}  // namespace

Status Fp16Codec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  return internal::EncodeHalfWidth("fp16", dim_, values, out,
                                   [](float x) { return FloatToHalf(x); });
}

Status Fp16Codec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  return internal::DecodeHalfWidth("fp16", dim_, bytes, out, [](uint16_t half) {
    return HalfToFloat(half);
  });
}

}  // namespace anchorage::codec
