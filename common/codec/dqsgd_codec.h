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
// The budget binds. With CodecOptions::dqsgd_scale = 0 (the default), the
// scale t or k adapts so that the mean of B_1 .. B_n over this codec's
// encodes converges to the budget b (CodecOptions::bit_budget, or
// CodecOptions::bits when that is 0), any real b in [2, 16]: 4.5 spends 4.5
// bits per coordinate, alternating 4 and 5 at a steady norm. Each encode
// has a target: b for the nonconvex rule; for the strongly-convex rule the
// rule's own schedule at a constant norm, b_n = log2(u alpha^((N - n) / 2)
// + 1) + 1 (unrounded, clamped), with u fixed once so that b_1 .. b_N
// average b, and b itself past N. The codec keeps the overspend
// e_n = sum_{i <= n} (B_i - b_i) and, after each encode, moves log2 of the
// scale by -(0.25 (B_n - b_n) + 0.02 e_n): the first term follows changes
// of the gradient norm's level within a few encodes, the second drives the
// overspend itself to zero, so the mean lands on the budget even while the
// norm keeps drifting. From one encode to the next B still rises and falls
// with |g_n|, as the rule says; what the adaptation takes out is a lasting
// change of the norm's level. The first encode with a nonzero norm starts the
// scale where its rule gives b_1 - 1/2 before rounding up (rounding adds half a
// bit on average). An all-zero vector is sent at B = 2, which counts against
// the budget but leaves the scale alone; so does everything while the scale is
// still unset.
//
// The budget's "run" is this codec instance: on a worker, the pushes of
// that worker process since it started (each worker meets the budget on
// its own pushes, so the workers together do too); a worker that restarts
// starts a new account. The rule's n and N likewise count this instance's
// encodes.
//
// A positive CodecOptions::dqsgd_scale fixes t or k instead, and the budget
// is not used.
//
// The message layout is QSGD's (quantize.h) with B_n in the header, so
// Decode accepts any B in [2, 16], and this codec's bucket size only.
// Randomness as in QsgdCodec.
//
// Not thread-safe for Encode (step counter, scale, random stream); Decode is
// const and may run concurrently.
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
  // The sum of B over the encodes so far, and its mean (0 before the
  // first encode).
  int64_t bits_spent() const { return bits_spent_; }
  double mean_bits() const;
  // The target b_n of encode n (>= 1) as above; the budget when the scale
  // is fixed.
  double TargetBits(int64_t n) const;
  // The scale t or k in use; 0 while it still waits for a nonzero norm.
  double scale() const;
  int64_t bucket_size() const { return bucket_; }

 private:
  // log2(alpha^((N - n) / 2)): the strongly-convex factor of encode n, 0
  // past N and for the nonconvex rule.
  double Log2Decay(int64_t n) const;
  // Returns the u of the strongly-convex targets (as log2 u) whose average
  // over n = 1 .. N is the budget.
  double PlanLog2Level() const;

  int64_t dim_;
  int64_t bucket_;
  int64_t total_steps_;
  double log2_alpha_;  // 0 for the nonconvex rule
  double budget_;
  bool adaptive_;
  double plan_log2_level_ = 0;  // log2 u, strongly-convex adaptive only
  bool scale_known_;
  double log2_scale_;
  double overspent_ = 0;  // e_n, in bits per coordinate
  int64_t encodes_ = 0;
  int64_t bits_spent_ = 0;
  int last_bits_ = 0;
  std::vector<float> norms_;  // the last encode's, kept to reuse the memory
  QuantizationRng rng_;
};

}  // namespace anchorage::codec
