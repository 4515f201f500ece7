// TopKCodec: top-k sparsification with error feedback (as in Stich et al.
// 2018 and the local top-k baseline of Ivkin et al. 2019, ALGORITHMS.md 4).
// The sender keeps a residual r, initially 0. Encode(g) forms v = g + r,
// sends the k = max(1, round(topk_fraction * dim)) coordinates of v with the
// largest |v_i| (ties go to the lower index) and keeps the rest:
// r <- v - sent. So over any number of encodes, the sum of the decoded
// vectors plus the final residual equals the sum of the inputs (up to the
// float rounding of g + r), and ||v - top_k(v)||^2 <= (1 - k/d) ||v||^2.
//
// With a momentum rho > 0 it is the local top-k of Ivkin et al.'s code
// (sketchedsgd, localTopk): the sender also keeps u, initially 0, and
// Encode(g) does u <- rho u + g, v = u + r, sends the top k of v, keeps
// r <- v - sent and zeroes u at the sent coordinates (momentum stopping,
// as Sketched SGD's workers do at the applied ones). rho = 0 is the codec
// above, bit for bit.
//
// Message layout (little-endian):
//   offset 0   u8   0x4b ('K'): magic and format version 1
//   offset 1   u64  dim
//   offset 9   u32  k, <= dim
//   offset 13  k entries of (u32 index, f32 value), indices strictly
//              increasing and < dim, values finite
// A message is 13 + 8k bytes. Decode writes zeros, then the k values.
//
// Encode rejects non-finite values and non-finite g + r or rho u + g
// (InvalidArgument, residual and momentum unchanged). It costs O(dim):
// std::nth_element, for small k on the few candidates at or above a threshold
// guessed from a sample of |g + r|. It keeps four dim-sized buffers and, after
// the first call, allocates only when *out must grow.
//
// Not thread-safe for Encode (the residual); Decode is const and may run
// concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"

namespace anchorage::codec {

class TopKCodec final : public Codec {
 public:
  static constexpr uint8_t kMagic = 0x4b;
  static constexpr size_t kHeaderBytes = 13;
  static constexpr size_t kEntryBytes = 8;

  // `fraction` in (0, 1] and `momentum` in [0, 1) (checked by
  // ValidateOptions) and dim < 2^32 (the wire's u32 indices); a value
  // outside is a programming error and aborts.
  TopKCodec(int64_t dim, double fraction, double momentum = 0);

  // k = max(1, round(fraction * dim)), at most dim.
  static int64_t CoordinatesFor(int64_t dim, double fraction);

  // Returns InvalidArgument unless 0 < options.topk_fraction <= 1 and
  // 0 <= options.sketch_momentum < 1 (the momentum rho).
  static Status ValidateOptions(const CodecOptions& options);

  std::string_view name() const override { return "topk"; }
  int64_t dim() const override { return dim_; }
  // Coordinates sent per encode.
  int64_t k() const { return k_; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

  // The error-feedback residual r after the last encode (zeros before it).
  std::span<const float> residual() const { return residual_; }
  // The momentum u after the last encode (empty when rho = 0).
  std::span<const float> momentum() const { return momentum_; }

 private:
  int64_t dim_;
  int64_t k_;
  float rho_;
  std::vector<float> residual_;
  std::vector<float> momentum_;       // u; rho > 0 only
  std::vector<float> next_momentum_;  // rho u + g of the encode in progress
  // Scratch of the encode in progress, kept to avoid allocating per call.
  std::vector<float> accumulated_;    // v = g + r
  std::vector<float> magnitudes_;     // |v_i| of the candidates
  std::vector<uint32_t> candidates_;  // indices of the candidates
  std::vector<uint8_t> hits_;         // per 16 coordinates: any candidate
};

}  // namespace anchorage::codec
