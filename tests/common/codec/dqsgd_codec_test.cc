#include "common/codec/dqsgd_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/codec/qsgd_codec.h"
#include "common/codec/quantize.h"

namespace anchorage::codec {
namespace {

// A Gaussian vector scaled to L2 norm `norm`.
std::vector<float> WithNorm(size_t dim, double norm, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> raw(dim);
  double sum = 0;
  for (double& value : raw) {
    value = normal(rng);
    sum += value * value;
  }
  std::vector<float> values(dim);
  for (size_t i = 0; i < dim; ++i) {
    values[i] = static_cast<float>(raw[i] * norm / std::sqrt(sum));
  }
  return values;
}

CodecOptions StronglyConvex(int64_t steps, double budget) {
  CodecOptions options;
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_total_steps = steps;
  options.bit_budget = budget;
  options.dqsgd_mu = 0.1;
  options.dqsgd_l = 1.0;
  options.dqsgd_learning_rate = 0.1;  // eta: alpha = 0.981
  return options;
}

double AlphaOf(const CodecOptions& options) {
  const double mu = options.dqsgd_mu;
  const double eta = options.dqsgd_learning_rate;
  return 1 - 2 * mu * eta + options.dqsgd_l * mu * eta * eta;
}

// Runs `steps` encodes of unit-norm vectors and returns the codec's
// reported bits per encode, checking each message's header and size.
std::vector<int> BitSchedule(DqsgdCodec* codec, int64_t steps, size_t dim) {
  std::vector<int> bits;
  std::vector<uint8_t> bytes;
  for (int64_t n = 1; n <= steps; ++n) {
    const std::vector<float> g = WithNorm(dim, 1.0, static_cast<uint32_t>(n));
    EXPECT_TRUE(codec->Encode(g, &bytes).ok());
    const int b = codec->last_bits();
    EXPECT_EQ(bytes[1], b) << "step " << n;
    EXPECT_EQ(bytes.size(), QuantizedSize(static_cast<int64_t>(dim), b,
                                          codec->bucket_size()));
    bits.push_back(b);
  }
  return bits;
}

TEST(DqsgdCodecTest, StronglyConvexBitsNeverDecreaseAtConstantNorm) {
  constexpr int64_t kSteps = 200;
  constexpr size_t kDim = 1000;
  DqsgdCodec codec(kDim, StronglyConvex(kSteps, 4));

  const std::vector<int> bits = BitSchedule(&codec, kSteps + 20, kDim);

  for (size_t n = 1; n < bits.size(); ++n) {
    ASSERT_GE(bits[n], bits[n - 1]) << "step " << n + 1;
  }
  EXPECT_LT(bits.front(), bits[kSteps - 1]);
  // Past N the exponent stays 0, so the bits stay at B_N.
  EXPECT_EQ(bits.back(), bits[kSteps - 1]);
  double average = 0;
  for (int64_t n = 0; n < kSteps; ++n) {
    average += bits[n];
  }
  average /= kSteps;
  EXPECT_LE(average, 4.0);
  EXPECT_GE(average, 3.5);
  EXPECT_EQ(codec.encodes(), kSteps + 20);
}

// The error term compared, from the strongly convex analysis of Yan et al.
// 2021: quantisation noise injected at step n is contracted by alpha at each
// of the N - n later steps, so its contribution to the final optimality gap
// is (L eta^2 / 2) * sum_{n=1..N} alpha^(N-n) * E|Q(g_n) - g_n|^2, and with
// QSGD's variance bound E|Q(g) - g|^2 <= d / (4 s_n^2) |g_n|^2,
// s_n = 2^(B_n - 1) - 1:
//   E = sum_{n=1..N} alpha^(N-n) * d |g_n|^2 / (4 s_n^2)
// (the constant L eta^2 / 2 cancels). B_n ~ log2(alpha^((N-n)/2)) + c is the
// bit allocation minimising E for a fixed sum of B_n, which is where the
// DQ-SGD rule comes from. We take B_n from the codec's last_bits(), the
// total bits as d * sum_n B_n, and compare against fixed-bit QSGD at the
// budget's B for all N steps (d * N * B bits): DQ-SGD must use no more bits
// and have no larger E.
TEST(DqsgdCodecTest, BeatsFixedBitQsgdAtTheSameTotalBits) {
  constexpr size_t kDim = 1000;
  struct Case {
    int64_t steps;
    int budget;
  };
  for (const Case c :
       {Case{200, 3}, Case{200, 4}, Case{200, 6}, Case{1000, 4}}) {
    const CodecOptions options = StronglyConvex(c.steps, c.budget);
    const double alpha = AlphaOf(options);
    DqsgdCodec codec(kDim, options);

    const std::vector<int> bits = BitSchedule(&codec, c.steps, kDim);

    double dq_bits = 0;
    double qsgd_bits = 0;
    double dq_error = 0;
    double qsgd_error = 0;
    const double qsgd_levels = QuantizationLevels(c.budget);
    for (int64_t n = 1; n <= c.steps; ++n) {
      const double weight = std::pow(alpha, static_cast<double>(c.steps - n));
      const double levels = QuantizationLevels(bits[n - 1]);
      dq_bits += double{kDim} * bits[n - 1];
      qsgd_bits += double{kDim} * c.budget;
      dq_error += weight * kDim / (4 * levels * levels);  // |g_n| = 1
      qsgd_error += weight * kDim / (4 * qsgd_levels * qsgd_levels);
    }
    EXPECT_LE(dq_bits, qsgd_bits) << "N " << c.steps << " budget " << c.budget;
    EXPECT_LE(dq_error, qsgd_error)
        << "N " << c.steps << " budget " << c.budget;
    if (c.steps == 200 && c.budget == 4) {
      EXPECT_LT(dq_error, 0.75 * qsgd_error);
    }
  }
}

// The same comparison with the measured squared errors instead of the bound.
TEST(DqsgdCodecTest, MeasuredWeightedErrorBeatsFixedBitQsgd) {
  constexpr int64_t kSteps = 200;
  constexpr size_t kDim = 1000;
  const CodecOptions options = StronglyConvex(kSteps, 4);
  const double alpha = AlphaOf(options);
  DqsgdCodec dqsgd(kDim, options);
  QsgdCodec qsgd(kDim, 4, 512, 1);
  std::vector<uint8_t> bytes;
  std::vector<float> decoded(kDim);
  double dq_error = 0;
  double qsgd_error = 0;

  for (int64_t n = 1; n <= kSteps; ++n) {
    const std::vector<float> g = WithNorm(kDim, 1.0, static_cast<uint32_t>(n));
    const double weight = std::pow(alpha, static_cast<double>(kSteps - n));
    for (Codec* codec :
         {static_cast<Codec*>(&dqsgd), static_cast<Codec*>(&qsgd)}) {
      ASSERT_TRUE(codec->Encode(g, &bytes).ok());
      ASSERT_TRUE(codec->Decode(bytes, decoded).ok());
      double error = 0;
      for (size_t i = 0; i < kDim; ++i) {
        error += (double{decoded[i]} - g[i]) * (double{decoded[i]} - g[i]);
      }
      (codec == &qsgd ? qsgd_error : dq_error) += weight * error;
    }
  }

  EXPECT_LT(dq_error, qsgd_error);
}

TEST(DqsgdCodecTest, NonconvexBitsFollowTheGradientNorm) {
  constexpr size_t kDim = 300;
  CodecOptions options;
  options.bit_budget = 4;
  DqsgdCodec codec(kDim, options);
  std::vector<uint8_t> bytes;
  EXPECT_EQ(codec.scale(), 0.0);

  // The first nonzero norm, G = 2, sets t so that B = 4 at G: t G ~ 7.
  ASSERT_TRUE(codec.Encode(WithNorm(kDim, 2.0, 1), &bytes).ok());
  EXPECT_EQ(codec.last_bits(), 4);
  EXPECT_NEAR(codec.scale() * 2.0, 7.0, 1e-5);

  const double t = codec.scale();
  int previous = 0;
  for (const double norm : {0.0, 0.02, 1.0, 2.0, 4.0, 8.0, 200.0, 2e6}) {
    ASSERT_TRUE(codec.Encode(WithNorm(kDim, norm, 2), &bytes).ok());
    const double real = std::log2(t * norm + 1) + 1;
    const int expected =
        std::clamp(static_cast<int>(std::ceil(real - 1e-9)), 2, 16);
    EXPECT_EQ(codec.last_bits(), expected) << "norm " << norm;
    EXPECT_GE(codec.last_bits(), previous) << "norm " << norm;
    previous = codec.last_bits();
  }
  EXPECT_EQ(previous, 16);
}

TEST(DqsgdCodecTest, ExplicitScaleFollowsTheStronglyConvexFormula) {
  constexpr int64_t kSteps = 20;
  CodecOptions options;
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_total_steps = kSteps;
  options.dqsgd_scale = 50;  // k
  options.dqsgd_mu = 0.5;
  options.dqsgd_l = 1.0;
  options.dqsgd_learning_rate = 0.5;  // alpha = 0.625
  const double alpha = AlphaOf(options);
  DqsgdCodec codec(64, options);

  const std::vector<int> bits = BitSchedule(&codec, kSteps, 64);

  for (int64_t n = 1; n <= kSteps; ++n) {
    const double real =
        std::log2(50 * std::pow(alpha, static_cast<double>(kSteps - n) / 2) *
                      1.0 +
                  1) +
        1;
    const int expected =
        std::clamp(static_cast<int>(std::ceil(real - 1e-9)), 2, 16);
    EXPECT_EQ(bits[n - 1], expected) << "step " << n;
  }
  EXPECT_EQ(bits.front(), 2);
  EXPECT_EQ(bits.back(), 7);  // ceil(log2(51) + 1)
}

TEST(DqsgdCodecTest, ZeroVectorsBeforeTheFirstNormSendTwoBits) {
  CodecOptions options;
  options.bits = 6;  // the budget, since bit_budget is 0
  DqsgdCodec codec(10, options);
  std::vector<uint8_t> bytes;

  ASSERT_TRUE(codec.Encode(std::vector<float>(10, 0.0F), &bytes).ok());
  EXPECT_EQ(codec.last_bits(), 2);
  EXPECT_EQ(codec.scale(), 0.0);
  std::vector<float> decoded(10, 1.0F);
  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
  EXPECT_EQ(decoded, std::vector<float>(10, 0.0F));

  ASSERT_TRUE(codec.Encode(WithNorm(10, 0.3, 1), &bytes).ok());
  EXPECT_EQ(codec.last_bits(), 6);
  EXPECT_GT(codec.scale(), 0.0);
  EXPECT_EQ(codec.encodes(), 2);
}

TEST(DqsgdCodecTest, MessageIsQsgdLayoutWithTheChosenBits) {
  constexpr size_t kDim = 77;
  CodecOptions options;
  options.bit_budget = 5;
  options.qsgd_bucket = 16;
  DqsgdCodec codec(kDim, options);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(WithNorm(kDim, 1.0, 4), &bytes).ok());
  ASSERT_EQ(codec.last_bits(), 5);
  std::vector<float> from_dqsgd(kDim);
  std::vector<float> from_qsgd(kDim);

  ASSERT_TRUE(codec.Decode(bytes, from_dqsgd).ok());
  ASSERT_TRUE(QsgdCodec(kDim, 5, 16, 1).Decode(bytes, from_qsgd).ok());

  EXPECT_EQ(bytes[0], kQuantizedMagic);
  EXPECT_EQ(bytes.size(), QuantizedSize(kDim, 5, 16));
  EXPECT_EQ(from_dqsgd, from_qsgd);
  EXPECT_EQ(codec.settings(), "quantiser with buckets of 16");
  // A decoder with other buckets refuses the message.
  options.qsgd_bucket = 0;
  const Status status = DqsgdCodec(kDim, options).Decode(bytes, from_dqsgd);
  EXPECT_EQ(status.code(), Status::Code::kDataLoss);
  EXPECT_NE(status.message().find("bucket size 16, this codec uses 77"),
            std::string::npos)
      << status.ToString();
}

TEST(DqsgdCodecTest, DecodeRejectsImpossibleBitWidths) {
  DqsgdCodec codec(40, CodecOptions{});
  std::vector<uint8_t> valid;
  ASSERT_TRUE(codec.Encode(WithNorm(40, 1.0, 3), &valid).ok());
  std::vector<float> out(40);

  for (const int bits : {0, 1, 17, 32, 255}) {
    std::vector<uint8_t> bytes = valid;
    bytes[1] = static_cast<uint8_t>(bits);
    const Status status = codec.Decode(bytes, out);

    EXPECT_EQ(status.code(), Status::Code::kDataLoss);
    EXPECT_NE(status.message().find("bit width " + std::to_string(bits)),
              std::string::npos)
        << status.ToString();
  }
  // A valid width that does not match the payload size.
  std::vector<uint8_t> bytes = valid;
  bytes[1] = static_cast<uint8_t>(codec.last_bits() + 1);
  const Status status = codec.Decode(bytes, out);
  EXPECT_EQ(status.code(), Status::Code::kDataLoss);
  EXPECT_NE(status.message().find("truncated"), std::string::npos)
      << status.ToString();
}

}  // namespace
}  // namespace anchorage::codec
