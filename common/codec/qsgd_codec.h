// QsgdCodec: the stochastic uniform quantiser of QSGD (Alistarh et al. 2017)
// at a fixed B bits per coordinate: 1 sign bit and B - 1 level bits, so
// s = 2^(B-1) - 1 levels, with one norm per bucket of m consecutive
// coordinates (CodecOptions::qsgd_bucket), as QSGD's own experiments do. A
// coordinate of bucket k becomes sign(g_i) * |g_k| * l / s with
// l = floor(zeta) + Bernoulli(zeta - floor(zeta)), zeta = |g_i| / |g_k| * s,
// which makes the decoded vector unbiased, E[Q(g)] = g, with variance
// E|Q(g) - g|^2 <= sum_k m / (4 s^2) |g_k|^2 = m / (4 s^2) |g|^2. With one
// bucket for the whole vector (m = d) the bound is d / (4 s^2) |g|^2, which
// at d = 235k is about 61 |g|^2 even at B = 6: that is what the buckets are
// for. The message is a 26-byte header (magic, B, d, m, bucket count), 4 bytes
// per bucket norm and exactly ceil(d * B / 8) bytes of levels; the layout
// is in quantize.h and shared with DqsgdCodec.
//
// Randomness: a per-instance stream seeded from CodecOptions::seed (see
// QuantizationRng), so equal seeds and inputs give equal bytes.
//
// Encode rejects non-finite values and a bucket norm that overflows float32
// (InvalidArgument). Decode accepts only payloads at this codec's B, bucket
// size and dimension.
//
// Not thread-safe for Encode (it advances the random stream); Decode is const
// and may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"
#include "common/codec/quantize.h"

namespace anchorage::codec {

class QsgdCodec final : public Codec {
 public:
  // `bits` in [kMinQuantizedBits, kMaxQuantizedBits] and `bucket` >= 0
  // (CodecOptions::qsgd_bucket: 0 = one bucket) are checked by
  // ValidateCodecOptions; a value outside is a programming error and aborts.
  QsgdCodec(int64_t dim, int bits, int64_t bucket, uint64_t seed);

  std::string_view name() const override { return "qsgd"; }
  int64_t dim() const override { return dim_; }
  int bits() const { return bits_; }
  // The bucket size m in use (the option, or d when it is 0 or above d).
  int64_t bucket_size() const { return bucket_; }
  int quantization_bits() const override { return bits_; }
  // The bit width and the bucket size, which a decoder must share.
  std::string settings() const override;
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

 private:
  int64_t dim_;
  int bits_;
  int64_t bucket_;
  std::vector<float> norms_;  // the last encode's, kept to reuse the memory
  QuantizationRng rng_;
};

}  // namespace anchorage::codec
