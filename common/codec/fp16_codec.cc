#include "common/codec/fp16_codec.h"

#include <bit>
#include <cstring>
#include <string>

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
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "fp16 codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  out->resize(values.size() * 2);
  uint8_t* bytes = out->data();
  const float* x = values.data();
  const size_t size = values.size();
  for (size_t i = 0; i < size; ++i) {
    const uint16_t half = FloatToHalf(x[i]);
    std::memcpy(bytes + 2 * i, &half, 2);
  }
  return Status::Ok();
}

Status Fp16Codec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("fp16 codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  const size_t expected = out.size() * 2;
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "fp16 payload has " + std::to_string(bytes.size()) +
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
    y[i] = HalfToFloat(half);
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
