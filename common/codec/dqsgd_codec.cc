#include "common/codec/dqsgd_codec.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/base/format.h"

namespace anchorage::codec {
namespace {

// Rounding B up ignores excesses below this, so log2(2^b - 1 + 1) + 1 = b
// computed with rounding error does not become b + 1.
constexpr double kRoundingTolerance = 1e-9;

// The adaptation of log2(scale) after encode n: -(kGain (B_n - b_n) +
// kIntegral e_n). kGain alone would leave the overspend at (the drift of
// the scale the norm needs per encode) / kGain, so a run whose norm keeps
// falling would land below its budget; kIntegral drives the overspend to
// zero. Chosen on simulated sequences of 60 to 2,000 encodes (norms falling
// 20x, oscillating, or 10x higher for the first tenth, each with per-encode
// noise) at budgets 2.5 to 15.5: 150 encodes land within 0.03 bits of the
// budget and 2,000 within 0.005, while the scale moves by about a quarter
// bit per encode.
constexpr double kGain = 0.25;
constexpr double kIntegral = 0.02;

// log2 of the rule's product (scale * decay * |g|) is kept in this window
// around the current encode's: below it B is 2 and above it 16 whatever the
// product, so moving further would only store up a correction (wind-up).
constexpr double kLowestLog2Product = -3.0;
constexpr double kHighestLog2Product = 17.0;

// Strongly-convex plans over more steps than this average this many evenly
// spaced steps (midpoints); the targets are smooth and monotone in n.
constexpr int64_t kPlanSamples = 4096;

double Alpha(const CodecOptions& options) {
  const double mu = options.dqsgd_mu;
  const double eta = options.dqsgd_learning_rate;
  return 1.0 - 2.0 * mu * eta + options.dqsgd_l * mu * eta * eta;
}

// log2(2^x + 1) + 1, the rule before rounding, where x = log2 of the rule's
// product (scale * alpha^e * |g|).
double RealBits(double x) {
  // Beyond 64 the result clamps anyway; below -2000, 2^x is 0.
  return std::log2(std::exp2(std::clamp(x, -2000.0, 64.0)) + 1.0) + 1.0;
}

double ClampedRealBits(double x) {
  return std::clamp(RealBits(x), static_cast<double>(kMinQuantizedBits),
                    static_cast<double>(kMaxQuantizedBits));
}

// The inverse of RealBits: the x whose rule gives `bits` (> 1) unrounded.
double Log2ProductFor(double bits) {
  return std::log2(std::exp2(bits - 1.0) - 1.0);
}

// Returns ceil(RealBits(x)) clamped to the wire's bit range.
int BitsFromLog2(double x) {
  const double rounded = std::ceil(RealBits(x) - kRoundingTolerance);
  return static_cast<int>(std::clamp(rounded,
                                     static_cast<double>(kMinQuantizedBits),
                                     static_cast<double>(kMaxQuantizedBits)));
}

Status CheckPositiveFinite(const char* field, double value) {
  if (std::isfinite(value) && value > 0) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " must be > 0, got " +
                                 FormatValue(value));
}

}  // namespace

Status DqsgdCodec::ValidateOptions(const CodecOptions& options) {
  if (options.qsgd_bucket < 0) {
    return Status::InvalidArgument(
        "qsgd_bucket must be >= 0 (0 = one bucket), got " +
        std::to_string(options.qsgd_bucket));
  }
  if (options.dqsgd_total_steps < 1) {
    return Status::InvalidArgument("dqsgd_total_steps must be >= 1, got " +
                                   std::to_string(options.dqsgd_total_steps));
  }
  if (!std::isfinite(options.dqsgd_scale) || options.dqsgd_scale < 0) {
    return Status::InvalidArgument(
        "dqsgd_scale must be >= 0 (0 = adapt to bit_budget), got " +
        FormatValue(options.dqsgd_scale));
  }
  const double budget = options.bit_budget;
  const bool budget_in_range =
      budget >= kMinQuantizedBits && budget <= kMaxQuantizedBits;
  if (budget != 0 && !budget_in_range) {
    return Status::InvalidArgument(
        "bit_budget must be 0 (use bits) or in [2, 16], got " +
        FormatValue(budget));
  }
  if (options.dqsgd_scale == 0 && budget == 0 &&
      (options.bits < kMinQuantizedBits || options.bits > kMaxQuantizedBits)) {
    return Status::InvalidArgument(
        "bits must be in [2, 16] (the dqsgd bit budget), got " +
        std::to_string(options.bits));
  }
  if (options.dqsgd_rule == DqsgdRule::kStronglyConvex) {
    Status status = CheckPositiveFinite("dqsgd_mu", options.dqsgd_mu);
    if (!status.ok()) return status;
    status =
        CheckPositiveFinite("dqsgd_learning_rate", options.dqsgd_learning_rate);
    if (!status.ok()) return status;
    if (!std::isfinite(options.dqsgd_l) || options.dqsgd_l < options.dqsgd_mu) {
      return Status::InvalidArgument("dqsgd_l (L) must be >= dqsgd_mu (mu) = " +
                                     FormatValue(options.dqsgd_mu) + ", got " +
                                     FormatValue(options.dqsgd_l));
    }
    if (options.dqsgd_learning_rate >= 2.0 / options.dqsgd_l) {
      return Status::InvalidArgument(
          "dqsgd_learning_rate must be < 2 / dqsgd_l = " +
          FormatValue(2.0 / options.dqsgd_l) + ", got " +
          FormatValue(options.dqsgd_learning_rate));
    }
    const double alpha = Alpha(options);
    if (!(alpha > 0 && alpha < 1)) {
      return Status::InvalidArgument(
          "dqsgd_mu, dqsgd_l and dqsgd_learning_rate give alpha = " +
          FormatValue(alpha) + ", need 0 < alpha < 1");
    }
  }
  return Status::Ok();
}

DqsgdCodec::DqsgdCodec(int64_t dim, const CodecOptions& options)
    : dim_(dim),
      bucket_(QuantizationBucketSize(dim, options.qsgd_bucket)),
      total_steps_(options.dqsgd_total_steps),
      log2_alpha_(options.dqsgd_rule == DqsgdRule::kStronglyConvex
                      ? std::log2(Alpha(options))
                      : 0.0),
      budget_(options.bit_budget != 0 ? options.bit_budget
                                      : static_cast<double>(options.bits)),
      adaptive_(options.dqsgd_scale == 0),
      scale_known_(options.dqsgd_scale > 0),
      log2_scale_(options.dqsgd_scale > 0 ? std::log2(options.dqsgd_scale)
                                          : 0.0),
      rng_(options.seed) {
  ANCHORAGE_CHECK(dim > 0 && ValidateOptions(options).ok(),
                  "invalid dqsgd options");
  if (adaptive_ && log2_alpha_ != 0) plan_log2_level_ = PlanLog2Level();
}

std::string DqsgdCodec::settings() const {
  return "quantiser with buckets of " + std::to_string(bucket_);
}

double DqsgdCodec::scale() const {
  return scale_known_ ? std::exp2(log2_scale_) : 0.0;
}

double DqsgdCodec::mean_bits() const {
  return encodes_ > 0
             ? static_cast<double>(bits_spent_) / static_cast<double>(encodes_)
             : 0.0;
}

double DqsgdCodec::Log2Decay(int64_t n) const {
  return n < total_steps_
             ? static_cast<double>(total_steps_ - n) / 2.0 * log2_alpha_
             : 0.0;
}

double DqsgdCodec::TargetBits(int64_t n) const {
  if (!adaptive_ || log2_alpha_ == 0 || n > total_steps_) return budget_;
  return ClampedRealBits(plan_log2_level_ + Log2Decay(n));
}

double DqsgdCodec::PlanLog2Level() const {
  const int64_t samples = std::min(total_steps_, kPlanSamples);
  const auto steps = static_cast<double>(total_steps_);
  const auto average = [&](double level) {
    double total = 0;
    for (int64_t j = 0; j < samples; ++j) {
      // Every step when there are few, else the midpoints of equal parts.
      const double n = samples == total_steps_
                           ? static_cast<double>(j + 1)
                           : 1.0 + (steps - 1.0) *
                                       (static_cast<double>(j) + 0.5) /
                                       static_cast<double>(samples);
      total += ClampedRealBits(level + (steps - n) / 2.0 * log2_alpha_);
    }
    return total / static_cast<double>(samples);
  };
  // At lo every target is 2, at hi every target is 16.
  double lo = -64.0;
  double hi = 64.0 - log2_alpha_ * steps / 2.0;
  if (average(hi) <= budget_) return hi;
  for (int i = 0; i < 100 && hi - lo > 1e-12; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (average(mid) <= budget_) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status DqsgdCodec::Encode(std::span<const float> values,
                          std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "dqsgd codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  double norm = 0;
  Status status =
      QuantizationNorms(values, bucket_, "dqsgd codec", &norms_, &norm);
  if (!status.ok()) return status;
  const int64_t n = encodes_ + 1;
  const double target = TargetBits(n);
  // log2 of the rule's product without the scale; -inf at norm 0.
  const double log2_rest = std::log2(norm) + Log2Decay(n);
  if (adaptive_ && !scale_known_ && norm > 0) {
    log2_scale_ = Log2ProductFor(std::max(target - 0.5, 1.5)) - log2_rest;
    scale_known_ = true;
  }
  const int bits = scale_known_ && norm > 0
                       ? BitsFromLog2(log2_scale_ + log2_rest)
                       : kMinQuantizedBits;
  if (adaptive_) {
    overspent_ += bits - target;
    if (scale_known_ && norm > 0) {
      log2_scale_ -= kGain * (bits - target) + kIntegral * overspent_;
      const double product = log2_scale_ + log2_rest;
      log2_scale_ +=
          std::clamp(product, kLowestLog2Product, kHighestLog2Product) -
          product;
    }
  }
  EncodeQuantized(values, norms_, bucket_, bits, &rng_, out);
  encodes_ = n;
  bits_spent_ += bits;
  last_bits_ = bits;
  return Status::Ok();
}

Status DqsgdCodec::Decode(std::span<const uint8_t> bytes,
                          std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("dqsgd codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  return DecodeQuantized(bytes, "dqsgd", 0, bucket_, out);
}

}  // namespace anchorage::codec
