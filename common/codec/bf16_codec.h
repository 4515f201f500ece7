// Bf16Codec: each coordinate as a bfloat16, the top 16 bits of its float32
// (sign, 8-bit exponent, 7 mantissa bits), 2 bytes little-endian, so a
// message is exactly 2 * dim bytes (half of dense) with float32's range.
//
// Conversion:
// - finite values round to nearest, ties to even, on the 16 dropped bits
//   (float32 subnormals included: bfloat16 has the same exponent);
// - finite values that would round to infinity (|x| >= 2^128 * (1 - 2^-9),
//   about 3.3961776e38) saturate to +-3.3895314e38, the largest finite
//   bfloat16, as Fp16Codec saturates, so a finite gradient never becomes an
//   infinity on the wire;
// - +-infinity stays +-infinity;
// - NaN stays NaN: sign and the top 7 payload bits are kept and the quiet
//   bit is set, so a NaN can never collapse into an infinity.
// Decoding is exact (a bfloat16 shifted left by 16 is its float32).
//
// Stateless; Encode and Decode may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"

namespace anchorage::codec {

class Bf16Codec final : public Codec {
 public:
  explicit Bf16Codec(int64_t dim) : dim_(dim) {}

  std::string_view name() const override { return "bf16"; }
  int64_t dim() const override { return dim_; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

 private:
  int64_t dim_;
};

}  // namespace anchorage::codec
