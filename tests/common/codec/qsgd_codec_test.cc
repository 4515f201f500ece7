#include "common/codec/qsgd_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/codec/quantize.h"
#include "tests/common/codec/gaussian.h"

namespace anchorage::codec {
namespace {

double Norm(const std::vector<float>& values) {
  double sum = 0;
  for (const float value : values) {
    sum += double{value} * value;
  }
  return std::sqrt(sum);
}

// Encodes `values` with a fresh codec and returns the bytes.
std::vector<uint8_t> EncodeOnce(const std::vector<float>& values, int bits) {
  QsgdCodec codec(static_cast<int64_t>(values.size()), bits, 1);
  std::vector<uint8_t> bytes;
  const Status status = codec.Encode(values, &bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return bytes;
}

// Returns Decode's status for `bytes` on a codec of `dim` at `bits`.
Status DecodeStatus(const std::vector<uint8_t>& bytes, size_t dim, int bits) {
  QsgdCodec codec(static_cast<int64_t>(dim), bits, 1);
  std::vector<float> out(dim);
  return codec.Decode(bytes, out);
}

void ExpectDataLoss(const Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << fragment << "' not in " << status.ToString();
}

// QSGD is unbiased: over n = 10^5 quantisations (10 seeds x 10^4 encodes)
// of one d = 64 vector at B = 4 (s = 7), the mean of each coordinate is
// within 5 sigma_i / sqrt(n) of g_i, where sigma_i^2 = |g|^2 / (4 s^2) bounds
// the variance of one quantised coordinate. The mean squared error
// E|Q(g) - g|^2 is positive, below d / (4 s^2) |g|^2, within 3% of its exact
// value sum_i (|g| / s)^2 p_i (1 - p_i) (p_i = frac(zeta_i)), and near
// d / (6 s^2) |g|^2, its value for uniformly spread p_i.
TEST(QsgdCodecTest, UnbiasedWithVarianceWithinTheBound) {
  constexpr size_t kDim = 64;
  constexpr int kBits = 4;
  constexpr double kLevels = 7;
  constexpr int kSeeds = 10;
  constexpr int kEncodesPerSeed = 10000;
  constexpr double kDraws = double{kSeeds} * kEncodesPerSeed;
  const std::vector<float> g = Gaussian(kDim, 3);
  std::vector<double> sum(kDim, 0.0);
  double squared_error = 0;
  std::vector<uint8_t> bytes;
  std::vector<float> decoded(kDim);

  for (int seed = 1; seed <= kSeeds; ++seed) {
    QsgdCodec codec(kDim, kBits, static_cast<uint64_t>(seed));
    for (int call = 0; call < kEncodesPerSeed; ++call) {
      ASSERT_TRUE(codec.Encode(g, &bytes).ok());
      ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
      for (size_t i = 0; i < kDim; ++i) {
        sum[i] += decoded[i];
        const double error = double{decoded[i]} - g[i];
        squared_error += error * error;
      }
    }
  }

  const double norm = Norm(g);
  const double sigma = norm / (2 * kLevels);
  double exact_variance = 0;
  for (size_t i = 0; i < kDim; ++i) {
    const double mean = sum[i] / kDraws;
    EXPECT_LE(std::fabs(mean - g[i]), 5 * sigma / std::sqrt(kDraws))
        << "coordinate " << i << ": mean " << mean << ", g_i " << g[i];
    const double zeta = std::fabs(g[i]) / norm * kLevels;
    const double p = zeta - std::floor(zeta);
    exact_variance += (norm / kLevels) * (norm / kLevels) * p * (1 - p);
  }
  const double variance = squared_error / kDraws;
  const double bound = kDim / (4 * kLevels * kLevels) * norm * norm;
  const double uniform = kDim / (6 * kLevels * kLevels) * norm * norm;
  EXPECT_GT(variance, 0);
  EXPECT_LE(variance, bound);
  EXPECT_NEAR(variance / exact_variance, 1.0, 0.03);
  EXPECT_NEAR(variance / uniform, 1.0, 0.5);
}

TEST(QsgdCodecTest, FourBitsIsEightTimesSmallerThanDense) {
  constexpr int64_t kDim = 10000;
  const std::vector<float> g = Gaussian(kDim, 4);
  QsgdCodec codec(kDim, 4, 1);
  std::vector<uint8_t> bytes;

  ASSERT_TRUE(codec.Encode(g, &bytes).ok());

  EXPECT_EQ(QuantizationLevels(4), 7);
  EXPECT_EQ(bytes.size(), kQuantizedHeaderBytes + 5000);
  EXPECT_EQ((bytes.size() - kQuantizedHeaderBytes) * 8,
            static_cast<size_t>(codec.raw_bytes()));
}

TEST(QsgdCodecTest, PayloadIsExactlyCeilDTimesBOverEightBytes) {
  for (int bits = kMinQuantizedBits; bits <= kMaxQuantizedBits; ++bits) {
    for (const size_t dim : {1, 2, 7, 8, 9, 15, 16, 17, 1023, 1024, 1025}) {
      const std::vector<uint8_t> bytes =
          EncodeOnce(Gaussian(dim, static_cast<uint32_t>(dim)), bits);

      ASSERT_EQ(bytes.size(), kQuantizedHeaderBytes + (dim * bits + 7) / 8)
          << "dim " << dim << " bits " << bits;
      ASSERT_TRUE(DecodeStatus(bytes, dim, bits).ok())
          << "dim " << dim << " bits " << bits;
    }
  }
}

TEST(QsgdCodecTest, DecodedValuesAreSignedLevelsOfTheNorm) {
  constexpr size_t kDim = 1000;
  for (const int bits : {2, 3, 4, 8, 9, 16}) {
    const std::vector<float> g = Gaussian(kDim, 8);
    QsgdCodec codec(kDim, bits, 3);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(codec.Encode(g, &bytes).ok());
    std::vector<float> decoded(kDim);
    ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
    float norm = 0;
    std::memcpy(&norm, bytes.data() + 10, sizeof(norm));
    const double levels = QuantizationLevels(bits);

    EXPECT_NEAR(norm, Norm(g), 1e-6 * Norm(g));
    for (size_t i = 0; i < kDim; ++i) {
      const double level = std::fabs(decoded[i]) / norm * levels;
      ASSERT_NEAR(level, std::round(level), 1e-3) << "bits " << bits;
      ASSERT_LE(std::round(level), levels);
      // Stochastic rounding picks one of the two levels around zeta_i.
      const double zeta = std::fabs(g[i]) / norm * levels;
      ASSERT_LE(std::fabs(level - zeta), 1.0 + 1e-4) << "bits " << bits;
      if (decoded[i] != 0) {
        ASSERT_EQ(std::signbit(decoded[i]), std::signbit(g[i]));
      }
    }
  }
}

// g = (0, -2, 0) at B = 4: |g| = 2, zeta_1 = 7 = s, so the code is level 7
// with the sign bit, 0b1111, in bits 4..7 of the payload.
TEST(QsgdCodecTest, WireLayoutIsHeaderThenLsbFirstFields) {
  const std::vector<uint8_t> bytes = EncodeOnce({0.0F, -2.0F, 0.0F}, 4);

  const std::vector<uint8_t> expected = {
      0x51, 4,                             // magic, B
      3,    0,    0,    0,    0, 0, 0, 0,  // dim
      0x00, 0x00, 0x00, 0x40,              // norm 2.0F
      0xf0, 0x00};                         // codes 0, 15, 0 + padding
  EXPECT_EQ(bytes, expected);
}

TEST(QsgdCodecTest, OneHotVectorIsExact) {
  std::vector<float> g(100, 0.0F);
  g[42] = -3.25F;
  QsgdCodec codec(100, 5, 1);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());
  std::vector<float> decoded(100, 1.0F);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  EXPECT_EQ(decoded, g);
}

TEST(QsgdCodecTest, ZeroVectorEncodesToZeros) {
  const std::vector<float> g(33, 0.0F);
  QsgdCodec codec(33, 6, 1);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());
  std::vector<float> decoded(33, 1.0F);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  EXPECT_EQ(decoded, g);
}

TEST(QsgdCodecTest, TinyAndHugeNormsStayFinite) {
  for (const float scale : {1e-42F, 1e-30F, 1e30F}) {
    std::vector<float> g = Gaussian(50, 2);
    for (float& value : g) {
      value *= scale;
    }
    QsgdCodec codec(50, 8, 1);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(codec.Encode(g, &bytes).ok()) << scale;
    std::vector<float> decoded(50);
    ASSERT_TRUE(codec.Decode(bytes, decoded).ok()) << scale;
    const double norm = Norm(g);

    for (size_t i = 0; i < g.size(); ++i) {
      ASSERT_TRUE(std::isfinite(decoded[i])) << scale;
      ASSERT_LE(std::fabs(decoded[i] - g[i]), norm / 127 * 1.001 + 2e-45)
          << scale;
    }
  }
}

TEST(QsgdCodecTest, EncodeRejectsNonFiniteValuesAndNormOverflow) {
  QsgdCodec codec(8, 4, 1);
  std::vector<uint8_t> bytes;
  std::vector<float> g(8, 1.0F);
  g[5] = std::numeric_limits<float>::quiet_NaN();

  const Status nan_status = codec.Encode(g, &bytes);
  g[5] = std::numeric_limits<float>::infinity();
  const Status inf_status = codec.Encode(g, &bytes);
  const std::vector<float> huge(8, 3.0e38F);
  const Status huge_status = codec.Encode(huge, &bytes);

  EXPECT_EQ(nan_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(nan_status.message().find("coordinate 5"), std::string::npos)
      << nan_status.ToString();
  EXPECT_EQ(inf_status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(huge_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(huge_status.message().find("overflows"), std::string::npos)
      << huge_status.ToString();
}

TEST(QsgdCodecTest, SeedDeterminesTheBytes) {
  const std::vector<float> g = Gaussian(500, 1);
  QsgdCodec a(500, 3, 7);
  QsgdCodec b(500, 3, 7);
  QsgdCodec c(500, 3, 8);
  std::vector<uint8_t> bytes_a;
  std::vector<uint8_t> bytes_b;
  std::vector<uint8_t> bytes_c;

  for (int call = 0; call < 3; ++call) {
    ASSERT_TRUE(a.Encode(g, &bytes_a).ok());
    ASSERT_TRUE(b.Encode(g, &bytes_b).ok());
    ASSERT_TRUE(c.Encode(g, &bytes_c).ok());
    EXPECT_EQ(bytes_a, bytes_b);
    EXPECT_NE(bytes_a, bytes_c);
  }
}

TEST(QsgdCodecTest, DecodeRejectsBadHeaderFields) {
  const std::vector<float> g = Gaussian(20, 6);
  const std::vector<uint8_t> valid = EncodeOnce(g, 4);
  ASSERT_TRUE(DecodeStatus(valid, 20, 4).ok());

  std::vector<uint8_t> bytes = valid;
  bytes[0] = 0x52;
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "magic byte 82");

  for (const int bits : {0, 1, 17, 255}) {
    bytes = valid;
    bytes[1] = static_cast<uint8_t>(bits);
    ExpectDataLoss(DecodeStatus(bytes, 20, 4),
                   "bit width " + std::to_string(bits) + ", outside [2, 16]");
  }

  bytes = valid;
  bytes[1] = 5;  // valid width, but not this codec's
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "bit width 5, this codec uses 4");

  ExpectDataLoss(DecodeStatus(valid, 21, 4), "dimension 20, expected 21");

  const float bad_norms[] = {std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::infinity(), -1.0F};
  for (const float norm : bad_norms) {
    bytes = valid;
    std::memcpy(bytes.data() + 10, &norm, sizeof(norm));
    ExpectDataLoss(DecodeStatus(bytes, 20, 4), "norm");
  }
}

TEST(QsgdCodecTest, DecodeRejectsWrongPayloadSize) {
  const std::vector<uint8_t> valid = EncodeOnce(Gaussian(20, 6), 4);  // 24 B

  std::vector<uint8_t> bytes(valid.begin(), valid.end() - 1);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4),
                 "23 bytes, expected 24 (truncated");
  bytes = valid;
  bytes.push_back(0);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4),
                 "25 bytes, expected 24 (oversized");
  bytes.assign(valid.begin(), valid.begin() + 13);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "13 bytes, shorter than the 14");
}

// d = 3 at B = 4 fills 12 of the payload's 16 bits; the last 4 must be 0.
TEST(QsgdCodecTest, DecodeRejectsNonzeroPaddingBits) {
  std::vector<uint8_t> bytes = EncodeOnce({1.0F, 2.0F, 3.0F}, 4);
  ASSERT_EQ(bytes.size(), kQuantizedHeaderBytes + 2);
  bytes.back() |= 0x80;

  ExpectDataLoss(DecodeStatus(bytes, 3, 4), "padding");
}

// With 1 sign bit and B - 1 level bits, a level field cannot exceed
// s = 2^(B-1) - 1: all-ones codes are the largest level, a valid value.
TEST(QsgdCodecTest, EveryPayloadBitPatternIsALevelAtMostS) {
  std::vector<uint8_t> bytes = EncodeOnce(Gaussian(16, 1), 4);
  std::fill(bytes.begin() + kQuantizedHeaderBytes, bytes.end(), uint8_t{0xff});
  float norm = 0;
  std::memcpy(&norm, bytes.data() + 10, sizeof(norm));
  QsgdCodec codec(16, 4, 1);
  std::vector<float> decoded(16);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  for (const float value : decoded) {
    EXPECT_FLOAT_EQ(value, -norm);
  }
}

}  // namespace
}  // namespace anchorage::codec
