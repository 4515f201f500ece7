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

double Mean(const std::vector<int>& bits, size_t begin, size_t end) {
  double sum = 0;
  for (size_t n = begin; n < end; ++n) {
    sum += bits[n];
  }
  return sum / static_cast<double>(end - begin);
}

// At a constant norm the strongly-convex schedule rises toward n = N, as
// alpha^((N - n) / 2) does, and its mean over the N encodes is the budget.
TEST(DqsgdCodecTest, StronglyConvexBitsRiseTowardTheEndAndMeanTheBudget) {
  constexpr int64_t kSteps = 200;
  constexpr size_t kDim = 1000;
  DqsgdCodec codec(kDim, StronglyConvex(kSteps, 4));

  const std::vector<int> bits = BitSchedule(&codec, kSteps, kDim);

  EXPECT_LT(Mean(bits, 0, 50), 3.5);
  EXPECT_GT(Mean(bits, 150, 200), 4.5);
  EXPECT_LT(codec.TargetBits(1), codec.TargetBits(kSteps));
  EXPECT_NEAR(Mean(bits, 0, kSteps), 4.0, 0.05);
  EXPECT_NEAR(codec.mean_bits(), Mean(bits, 0, kSteps), 1e-12);
  EXPECT_EQ(codec.encodes(), kSteps);
  // Past N the target is the budget itself.
  EXPECT_EQ(codec.TargetBits(kSteps + 1), 4.0);
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
// budget's B for all N steps (d * N * B bits): DQ-SGD must spend the same
// bits (its mean lands on the budget) and have no larger E.
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
    // The budget binds: the same bits, to within the adaptation's slack.
    EXPECT_NEAR(dq_bits / qsgd_bits, 1.0, 0.0125)
        << "N " << c.steps << " budget " << c.budget;
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

// Two codecs with the same history: at the same moment, a gradient 2^8
// times larger gets about 8 more bits, as log2(t |g| + 1) + 1 says.
TEST(DqsgdCodecTest, NonconvexBitsFollowTheGradientNorm) {
  constexpr size_t kDim = 300;
  CodecOptions options;
  options.bit_budget = 6;
  DqsgdCodec large(kDim, options);
  DqsgdCodec small(kDim, options);
  std::vector<uint8_t> bytes;
  EXPECT_EQ(large.scale(), 0.0);

  // The first nonzero norm, G = 2, starts t where the rule gives 5.5 bits
  // before rounding up: t G = 2^4.5 - 1.
  for (DqsgdCodec* codec : {&large, &small}) {
    ASSERT_TRUE(codec->Encode(WithNorm(kDim, 2.0, 1), &bytes).ok());
    EXPECT_EQ(codec->last_bits(), 6);
  }
  EXPECT_NEAR(large.scale() * 2.0, std::exp2(4.5) - 1, 1e-6);
  for (int n = 0; n < 20; ++n) {
    const double norm = 1.0 + 0.1 * (n % 3);
    ASSERT_TRUE(large.Encode(WithNorm(kDim, norm, 2), &bytes).ok());
    ASSERT_TRUE(small.Encode(WithNorm(kDim, norm, 2), &bytes).ok());
    ASSERT_EQ(large.last_bits(), small.last_bits());
  }
  const double t = large.scale();
  ASSERT_EQ(t, small.scale());

  ASSERT_TRUE(large.Encode(WithNorm(kDim, 16.0, 3), &bytes).ok());
  ASSERT_TRUE(small.Encode(WithNorm(kDim, 1.0 / 16, 3), &bytes).ok());

  for (const DqsgdCodec* codec : {&large, &small}) {
    const double norm = codec == &large ? 16.0 : 1.0 / 16;
    const double real = std::log2(t * norm + 1) + 1;
    EXPECT_EQ(codec->last_bits(),
              std::clamp(static_cast<int>(std::ceil(real - 1e-9)), 2, 16))
        << "norm " << norm;
  }
  EXPECT_GE(large.last_bits() - small.last_bits(), 7);
}

TEST(DqsgdCodecTest, ExplicitScaleFollowsTheNonconvexFormula) {
  constexpr size_t kDim = 300;
  CodecOptions options;
  options.dqsgd_scale = 3.3;  // t, which puts no norm below on an integer
  DqsgdCodec codec(kDim, options);
  std::vector<uint8_t> bytes;

  int previous = 0;
  for (const double norm : {0.0, 0.02, 1.0, 2.0, 4.0, 8.0, 200.0, 2e6}) {
    ASSERT_TRUE(codec.Encode(WithNorm(kDim, norm, 2), &bytes).ok());
    const double real = std::log2(3.3 * norm + 1) + 1;
    const int expected =
        std::clamp(static_cast<int>(std::ceil(real - 1e-9)), 2, 16);
    EXPECT_EQ(codec.last_bits(), expected) << "norm " << norm;
    EXPECT_GE(codec.last_bits(), previous) << "norm " << norm;
    previous = codec.last_bits();
    EXPECT_EQ(codec.scale(), 3.3);
  }
  EXPECT_EQ(previous, 16);
}

// The norms of a training run, roughly: falling 20x over the run, a slow
// oscillation of +-80 %, and per-push noise of about 35 %.
std::vector<double> DriftingNorms(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::vector<double> norms;
  for (int64_t n = 0; n < count; ++n) {
    const auto x = static_cast<double>(n);
    norms.push_back(10 * std::exp(-3 * x / static_cast<double>(count)) *
                    (1 + 0.8 * std::sin(x / 30)) * std::exp(noise(rng)));
  }
  return norms;
}

// Encodes one vector per norm and returns each encode's bits.
std::vector<int> BitsFor(DqsgdCodec* codec, const std::vector<double>& norms) {
  constexpr size_t kDim = 64;
  std::vector<int> bits;
  std::vector<uint8_t> bytes;
  for (size_t n = 0; n < norms.size(); ++n) {
    const std::vector<float> g =
        WithNorm(kDim, norms[n], static_cast<uint32_t>(n + 1));
    EXPECT_TRUE(codec->Encode(g, &bytes).ok());
    bits.push_back(codec->last_bits());
  }
  return bits;
}

// The budget binds: over 2,000 pushes whose norm drifts, both rules spend
// the budget's bits per coordinate on average, fractional budgets included
// (the mean is already there after 500 for the nonconvex rule).
TEST(DqsgdCodecTest, MeanBitsLandOnTheBudget) {
  constexpr int64_t kPushes = 2000;
  const std::vector<double> norms = DriftingNorms(kPushes, 17);
  for (const double budget : {3.5, 4.5, 5.5}) {
    CodecOptions nonconvex;
    nonconvex.bit_budget = budget;
    nonconvex.dqsgd_total_steps = kPushes;
    DqsgdCodec codec(64, nonconvex);
    const std::vector<int> bits = BitsFor(&codec, norms);

    EXPECT_NEAR(Mean(bits, 0, 500), budget, 0.05) << "budget " << budget;
    EXPECT_NEAR(Mean(bits, 0, kPushes), budget, 0.05) << "budget " << budget;
    EXPECT_NEAR(codec.mean_bits(), budget, 0.05) << "budget " << budget;
    // It does so by varying B, not by sitting at one width.
    EXPECT_LT(*std::min_element(bits.begin(), bits.end()),
              *std::max_element(bits.begin(), bits.end()) - 1);

    DqsgdCodec strongly_convex(64, StronglyConvex(kPushes, budget));
    const std::vector<int> schedule = BitsFor(&strongly_convex, norms);
    EXPECT_NEAR(Mean(schedule, 0, kPushes), budget, 0.05)
        << "strongly convex, budget " << budget;
    EXPECT_GT(Mean(schedule, kPushes - 200, kPushes),
              Mean(schedule, 0, 200) + 1)
        << "strongly convex, budget " << budget;
  }
}

// The old fixed scale gave floor(budget) at the first norm, so 5 and 5.5
// ran the same; now half a bit more budget is half a bit more per push.
TEST(DqsgdCodecTest, BudgetsFiveAndFiveAndAHalfDiffer) {
  const std::vector<double> norms = DriftingNorms(600, 3);
  CodecOptions options;
  options.dqsgd_total_steps = 600;
  options.bit_budget = 5;
  DqsgdCodec five(64, options);
  options.bit_budget = 5.5;
  DqsgdCodec five_and_a_half(64, options);

  const std::vector<int> a = BitsFor(&five, norms);
  const std::vector<int> b = BitsFor(&five_and_a_half, norms);

  EXPECT_NE(a, b);
  EXPECT_NEAR(Mean(b, 0, 600) - Mean(a, 0, 600), 0.5, 0.05);
}

// At a steady norm an integer budget is sent exactly, and 4.5 alternates
// 4 and 5.
TEST(DqsgdCodecTest, SteadyNormSpendsTheBudgetExactly) {
  const std::vector<double> steady(400, 0.7);
  CodecOptions options;
  options.bit_budget = 5;
  DqsgdCodec five(64, options);
  options.bit_budget = 4.5;
  DqsgdCodec four_and_a_half(64, options);

  const std::vector<int> a = BitsFor(&five, steady);
  const std::vector<int> b = BitsFor(&four_and_a_half, steady);

  EXPECT_EQ(a, std::vector<int>(400, 5));
  for (size_t n = 20; n < b.size(); ++n) {
    ASSERT_TRUE(b[n] == 4 || b[n] == 5) << "push " << n << ": " << b[n];
  }
  EXPECT_NEAR(Mean(b, 0, 400), 4.5, 0.01);
}

// A run longer than planned: past N the strongly-convex target is the
// budget, so the mean over every push still lands on it.
TEST(DqsgdCodecTest, MeanHoldsPastThePlannedSteps) {
  DqsgdCodec codec(64, StronglyConvex(100, 3.5));

  const std::vector<int> bits = BitsFor(&codec, DriftingNorms(800, 5));

  EXPECT_NEAR(Mean(bits, 0, 800), 3.5, 0.05);
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
