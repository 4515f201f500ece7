// DqsgdCodec: DQ-SGD (Yan, Huang, Tian, Song 2021), the QSGD quantiser (one
// norm per bucket, quantize.h) with the bit width B_n chosen per encode. n
// counts this codec's successful encodes from 1, N =
// CodecOptions::dqsgd_total_steps, |g_n| is the L2 norm of the whole vector
// being encoded, and the rule (CodecOptions::dqsgd_rule) is
//
//   "nonconvex":        B_n = log2(t * |g_n| + 1) + 1
//   "strongly-convex":  B_n = log2(k * alpha^((N - n) / 2) * |g_n| + 1) + 1,
//                       alpha = 1 - 2 mu eta + L mu eta^2,
//
// rounded up (with a 1e-9 tolerance, so an exact integer is not bumped by
// floating-point noise) and clamped to [2, 16]. Past n = N the
// strongly-convex exponent stays at 0. ALGORITHMS.md clamps to [2, 32]; this
// wire format packs at most 16 bits per coordinate (s = 32767 levels, a
// quantisation step of |g_k| / 32767), which is the same clamp as QsgdCodec.
//
// The scale t or k is CodecOptions::dqsgd_scale when positive. When it is 0,
// the codec derives it from the bit budget b (CodecOptions::bit_budget, or
// CodecOptions::bits when that is 0) at its first encode with a nonzero norm
// G: it picks the largest scale (to 1e-9 in log2) for which the average of
// the rounded, clamped B_1 .. B_N computed at the constant norm G is <= b.
// For "nonconvex" that makes B = floor(b) at norm G, so the bits then follow
// |g_n| / G; for "strongly-convex" the schedule rises toward n = N and
// averages at most b bits, for fewer total bits than QSGD at b bits. Encodes
// before that first nonzero norm send B = 2 (the vector is all zeros).
//
// The message layout is QSGD's (quantize.h) with B_n in the header, so
// Decode accepts any B in [2, 16], and this codec's bucket size only.
// Randomness as in QsgdCodec.
//
// Not thread-safe for Encode (step counter, random stream); Decode is const
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

class DqsgdCodec final : public Codec {
 public:
  // `options` must pass ValidateOptions (checked; a failure aborts).
  DqsgdCodec(int64_t dim, const CodecOptions& options);

  // Returns InvalidArgument naming the first dqsgd field of `options` that
  // is out of range.
  static Status ValidateOptions(const CodecOptions& options);

  std::string_view name() const override { return "dqsgd"; }
  int64_t dim() const override { return dim_; }
  // The bucket size, which a decoder must share.
  std::string settings() const override;
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

  // The bit width of the last successful encode; 0 before the first.
  int last_bits() const { return last_bits_; }
  int quantization_bits() const override { return last_bits_; }
  // Successful encodes so far (n of the next encode is encodes() + 1).
  int64_t encodes() const { return encodes_; }
  // The scale t or k in use; 0 while it still waits for a nonzero norm.
  double scale() const;
  int64_t bucket_size() const { return bucket_; }

 private:
  // Returns the rounded, clamped B_n for encode `n` of a vector whose norm
  // has log2 `log2_norm`, with log2(scale) = `log2_scale`.
  int BitsAt(int64_t n, double log2_scale, double log2_norm) const;
  // Returns the largest log2(scale) whose average B_1 .. B_N at norm
  // 2^log2_norm is <= `budget`.
  double DeriveLog2Scale(double budget, double log2_norm) const;

  int64_t dim_;
  int64_t bucket_;
  int64_t total_steps_;
  double log2_alpha_;  // 0 for the nonconvex rule
  double budget_;
  bool scale_known_;
  double log2_scale_;
  int64_t encodes_ = 0;
  int last_bits_ = 0;
  std::vector<float> norms_;  // the last encode's, kept to reuse the memory
  QuantizationRng rng_;
};

}  // namespace anchorage::codec
