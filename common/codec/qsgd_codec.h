// QsgdCodec: the stochastic uniform quantiser of QSGD (Alistarh et al. 2017)
// at a fixed B bits per coordinate: 1 sign bit and B - 1 level bits, so
// s = 2^(B-1) - 1 levels. A coordinate becomes sign(g_i) * |g|_2 * l / s
// with l = floor(zeta) + Bernoulli(zeta - floor(zeta)), zeta = |g_i| / |g| *
// s, which makes the decoded vector unbiased, E[Q(g)] = g, with variance
// E|Q(g) - g|^2 <= d / (4 s^2) * |g|^2. The message is a 14-byte header
// (magic, B, dim, norm) plus exactly ceil(d * B / 8) bytes; the layout is in
// quantize.h and shared with DqsgdCodec.
//
// Randomness: a per-instance stream seeded from CodecOptions::seed (see
// QuantizationRng), so equal seeds and inputs give equal bytes.
//
// Encode rejects non-finite values (InvalidArgument). Decode accepts only
// payloads at this codec's B and dimension.
//
// Not thread-safe for Encode (it advances the random stream); Decode is const
// and may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"
#include "common/codec/quantize.h"

namespace anchorage::codec {

class QsgdCodec final : public Codec {
 public:
  // `bits` in [kMinQuantizedBits, kMaxQuantizedBits] (checked by
  // ValidateCodecOptions; a value outside is a programming error and aborts).
  QsgdCodec(int64_t dim, int bits, uint64_t seed);

  std::string_view name() const override { return "qsgd"; }
  int64_t dim() const override { return dim_; }
  int bits() const { return bits_; }
  int quantization_bits() const override { return bits_; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

 private:
  int64_t dim_;
  int bits_;
  QuantizationRng rng_;
};

}  // namespace anchorage::codec
