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

double Alpha(const CodecOptions& options) {
  const double mu = options.dqsgd_mu;
  const double eta = options.dqsgd_learning_rate;
  return 1.0 - 2.0 * mu * eta + options.dqsgd_l * mu * eta * eta;
}

// Returns ceil(log2(2^x + 1) + 1) clamped to the wire's bit range, where
// x = log2 of the rule's product (scale * alpha^e * |g|).
int BitsFromLog2(double x) {
  // Beyond 64 the result clamps anyway; below -2000, 2^x is 0.
  const double product = std::exp2(std::clamp(x, -2000.0, 64.0));
  const double real = std::log2(product + 1.0) + 1.0;
  const double rounded = std::ceil(real - kRoundingTolerance);
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
        "dqsgd_scale must be >= 0 (0 = derive from bit_budget), got " +
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
      scale_known_(options.dqsgd_scale > 0),
      log2_scale_(options.dqsgd_scale > 0 ? std::log2(options.dqsgd_scale)
                                          : 0.0),
      rng_(options.seed) {
  ANCHORAGE_CHECK(dim > 0 && ValidateOptions(options).ok(),
                  "invalid dqsgd options");
}

std::string DqsgdCodec::settings() const {
  return "quantiser with buckets of " + std::to_string(bucket_);
}

double DqsgdCodec::scale() const {
  return scale_known_ ? std::exp2(log2_scale_) : 0.0;
}

int DqsgdCodec::BitsAt(int64_t n, double log2_scale, double log2_norm) const {
  const double exponent =
      n < total_steps_ ? static_cast<double>(total_steps_ - n) / 2.0 : 0.0;
  return BitsFromLog2(log2_scale + log2_norm + exponent * log2_alpha_);
}

double DqsgdCodec::DeriveLog2Scale(double budget, double log2_norm) const {
  // B_n is non-decreasing in n (log2_alpha_ <= 0), so the sum of B_1 .. B_N
  // is 2N plus, for each b in (2, 16], the number of n with B_n >= b, and
  // that number comes from a binary search for the first such n.
  const int64_t steps = total_steps_;
  const auto average_bits = [&](double log2_scale) {
    double total = kMinQuantizedBits * static_cast<double>(steps);
    for (int b = kMinQuantizedBits + 1; b <= kMaxQuantizedBits; ++b) {
      int64_t lo = 1;
      int64_t hi = steps + 1;  // first n with B_n >= b lies in [lo, hi]
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (BitsAt(mid, log2_scale, log2_norm) >= b) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      total += static_cast<double>(steps + 1 - lo);
    }
    return total / static_cast<double>(steps);
  };
  // At lo every B_n is 2 and at hi every B_n is 16.
  double lo = -100.0 - log2_norm;
  double hi = 100.0 - log2_norm - log2_alpha_ * static_cast<double>(steps);
  if (average_bits(hi) <= budget) return hi;
  for (int i = 0; i < 200 && hi - lo > 1e-9; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (average_bits(mid) <= budget) {
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
  const double log2_norm = std::log2(norm);  // -inf at 0
  if (!scale_known_ && norm > 0) {
    log2_scale_ = DeriveLog2Scale(budget_, log2_norm);
    scale_known_ = true;
  }
  const int64_t n = encodes_ + 1;
  const int bits =
      scale_known_ ? BitsAt(n, log2_scale_, log2_norm) : kMinQuantizedBits;
  EncodeQuantized(values, norms_, bucket_, bits, &rng_, out);
  encodes_ = n;
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
