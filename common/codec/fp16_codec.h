// Fp16Codec: each coordinate as an IEEE 754 binary16 ("half"), 2 bytes
// little-endian, so a message is exactly 2 * dim bytes (half of dense).
//
// Conversion (portable integer code, no F16C needed):
// - finite values round to nearest, ties to even, including into the
//   binary16 subnormals (step 2^-24); magnitudes below 2^-25 become +-0;
// - finite values that would round to infinity (|x| >= 65520) saturate to
//   +-65504, the largest finite half, so a large but finite gradient never
//   turns into an infinity on the wire;
// - +-infinity stays +-infinity;
// - NaN stays NaN with its sign: the canonical quiet half NaN 0x7e00 (the
//   payload is dropped).
// Decoding is exact: every half, including subnormals, infinities and NaNs,
// is a float.
//
// Stateless; Encode and Decode may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"

namespace anchorage::codec {

class Fp16Codec final : public Codec {
 public:
  explicit Fp16Codec(int64_t dim) : dim_(dim) {}

  std::string_view name() const override { return "fp16"; }
  int64_t dim() const override { return dim_; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

 private:
  int64_t dim_;
};

}  // namespace anchorage::codec
