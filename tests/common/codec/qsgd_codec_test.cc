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

// The L2 norm of values[begin, end).
double Norm(const std::vector<float>& values, size_t begin, size_t end) {
  return Norm(std::vector<float>(values.begin() + static_cast<ptrdiff_t>(begin),
                                 values.begin() + static_cast<ptrdiff_t>(end)));
}

// Encodes `values` with a fresh codec (buckets of `bucket`; 0 = one) and
// returns the bytes.
std::vector<uint8_t> EncodeOnce(const std::vector<float>& values, int bits,
                                int64_t bucket = 0) {
  QsgdCodec codec(static_cast<int64_t>(values.size()), bits, bucket, 1);
  std::vector<uint8_t> bytes;
  const Status status = codec.Encode(values, &bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return bytes;
}

// Returns Decode's status for `bytes` on a codec of `dim` at `bits`.
Status DecodeStatus(const std::vector<uint8_t>& bytes, size_t dim, int bits,
                    int64_t bucket = 0) {
  QsgdCodec codec(static_cast<int64_t>(dim), bits, bucket, 1);
  std::vector<float> out(dim);
  return codec.Decode(bytes, out);
}

// The norm of bucket k as the message carries it.
float BucketNorm(const std::vector<uint8_t>& bytes, size_t k) {
  float norm = 0;
  std::memcpy(&norm, bytes.data() + kQuantizedHeaderBytes + 4 * k,
              sizeof(norm));
  return norm;
}

void WriteU64(std::vector<uint8_t>* bytes, size_t offset, uint64_t value) {
  std::memcpy(bytes->data() + offset, &value, sizeof(value));
}

void ExpectDataLoss(const Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << fragment << "' not in " << status.ToString();
}

// Sums of `encodes` quantisations of g for each of seeds 1..`seeds`: per
// coordinate, and of the squared error. Call under ASSERT_NO_FATAL_FAILURE.
struct Draws {
  std::vector<double> sum;
  double squared_error = 0;
};

void Quantise(const std::vector<float>& g, int bits, int64_t bucket, int seeds,
              int encodes, Draws* draws) {
  draws->sum.assign(g.size(), 0.0);
  draws->squared_error = 0;
  std::vector<uint8_t> bytes;
  std::vector<float> decoded(g.size());
  for (int seed = 1; seed <= seeds; ++seed) {
    QsgdCodec codec(static_cast<int64_t>(g.size()), bits, bucket,
                    static_cast<uint64_t>(seed));
    for (int call = 0; call < encodes; ++call) {
      ASSERT_TRUE(codec.Encode(g, &bytes).ok());
      ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
      for (size_t i = 0; i < g.size(); ++i) {
        draws->sum[i] += decoded[i];
        const double error = double{decoded[i]} - g[i];
        draws->squared_error += error * error;
      }
    }
  }
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
  Draws draws;
  ASSERT_NO_FATAL_FAILURE(
      Quantise(g, kBits, 0, kSeeds, kEncodesPerSeed, &draws));

  const double norm = Norm(g);
  const double sigma = norm / (2 * kLevels);
  double exact_variance = 0;
  for (size_t i = 0; i < kDim; ++i) {
    const double mean = draws.sum[i] / kDraws;
    EXPECT_LE(std::fabs(mean - g[i]), 5 * sigma / std::sqrt(kDraws))
        << "coordinate " << i << ": mean " << mean << ", g_i " << g[i];
    const double zeta = std::fabs(g[i]) / norm * kLevels;
    const double p = zeta - std::floor(zeta);
    exact_variance += (norm / kLevels) * (norm / kLevels) * p * (1 - p);
  }
  const double variance = draws.squared_error / kDraws;
  const double bound = kDim / (4 * kLevels * kLevels) * norm * norm;
  const double uniform = kDim / (6 * kLevels * kLevels) * norm * norm;
  EXPECT_GT(variance, 0);
  EXPECT_LE(variance, bound);
  EXPECT_NEAR(variance / exact_variance, 1.0, 0.03);
  EXPECT_NEAR(variance / uniform, 1.0, 0.5);
}

// Bucketed QSGD is unbiased too: d = 64 in buckets of 16 at scales 10^-3,
// 1, 10^3 and 10^-6, 10^5 quantisations at B = 3 (s = 3). Coordinate i's
// mean is within 5 sigma_i / sqrt(n) of g_i with sigma_i = |g_k| / (2 s) of
// its own bucket k, so the small buckets are held to their own scale, and
// the mean squared error stays below sum_k m / (4 s^2) |g_k|^2.
TEST(QsgdCodecTest, BucketedIsUnbiasedWithVarianceWithinTheBucketBound) {
  constexpr size_t kDim = 64;
  constexpr size_t kBucket = 16;
  constexpr int kBits = 3;
  constexpr double kLevels = 3;
  constexpr int kSeeds = 10;
  constexpr int kEncodesPerSeed = 10000;
  constexpr double kDraws = double{kSeeds} * kEncodesPerSeed;
  const float scales[] = {1e-3F, 1.0F, 1e3F, 1e-6F};
  std::vector<float> g = Gaussian(kDim, 5);
  for (size_t i = 0; i < kDim; ++i) {
    g[i] *= scales[i / kBucket];
  }
  Draws draws;
  ASSERT_NO_FATAL_FAILURE(
      Quantise(g, kBits, kBucket, kSeeds, kEncodesPerSeed, &draws));

  double bound = 0;
  for (size_t k = 0; k < kDim / kBucket; ++k) {
    const double norm = Norm(g, k * kBucket, (k + 1) * kBucket);
    bound += kBucket / (4 * kLevels * kLevels) * norm * norm;
    const double sigma = norm / (2 * kLevels);
    for (size_t i = k * kBucket; i < (k + 1) * kBucket; ++i) {
      const double mean = draws.sum[i] / kDraws;
      EXPECT_LE(std::fabs(mean - g[i]), 5 * sigma / std::sqrt(kDraws))
          << "coordinate " << i << ": mean " << mean << ", g_i " << g[i];
    }
  }
  const double variance = draws.squared_error / kDraws;
  EXPECT_GT(variance, 0);
  EXPECT_LE(variance, bound);
  // One norm for the whole vector would allow d / (4 s^2) |g|^2.
  EXPECT_LT(bound, 0.3 * kDim / (4 * kLevels * kLevels) * Norm(g) * Norm(g));
}

// The point of the buckets: at d = 10^5 and B = 6 (s = 31), buckets of 512
// keep |Q(g) - g|^2 below m / (4 s^2) |g|^2 = 0.13 |g|^2, where one norm for
// the whole vector gives an error many times |g|^2 (about |g| |g|_1 / s).
TEST(QsgdCodecTest, BucketsBoundTheErrorByTheBucketNotTheDimension) {
  constexpr size_t kDim = 100000;
  const std::vector<float> g = Gaussian(kDim, 12);
  const double norm = Norm(g);
  const auto relative_error = [&](int64_t bucket) {
    QsgdCodec codec(kDim, 6, bucket, 1);
    std::vector<uint8_t> bytes;
    std::vector<float> decoded(kDim);
    EXPECT_TRUE(codec.Encode(g, &bytes).ok());
    EXPECT_TRUE(codec.Decode(bytes, decoded).ok());
    double error = 0;
    for (size_t i = 0; i < kDim; ++i) {
      error += (double{decoded[i]} - g[i]) * (double{decoded[i]} - g[i]);
    }
    return error / (norm * norm);
  };

  const double bucketed = relative_error(512);
  const double whole = relative_error(0);

  EXPECT_LT(bucketed, 512.0 / (4 * 31 * 31));
  EXPECT_GT(whole, 1.0);
  EXPECT_GT(whole, 20 * bucketed);
}

// d = 10^4 in the default buckets of 512: 20 norms, and levels 8 times
// smaller than dense.
TEST(QsgdCodecTest, FourBitsIsEightTimesSmallerThanDensePlusTheNorms) {
  constexpr int64_t kDim = 10000;
  const std::vector<float> g = Gaussian(kDim, 4);
  QsgdCodec codec(kDim, 4, 512, 1);
  std::vector<uint8_t> bytes;

  ASSERT_TRUE(codec.Encode(g, &bytes).ok());

  EXPECT_EQ(QuantizationLevels(4), 7);
  EXPECT_EQ(kQuantizedHeaderBytes, 26U);
  EXPECT_EQ(codec.bucket_size(), 512);
  constexpr size_t kNorms = 80;  // ceil(10^4 / 512) = 20 floats
  EXPECT_EQ(bytes.size(), 26 + kNorms + 5000);
  EXPECT_EQ(bytes.size(), QuantizedSize(kDim, 4, 512));
  EXPECT_EQ((bytes.size() - 26 - kNorms) * 8,
            static_cast<size_t>(codec.raw_bytes()));
}

TEST(QsgdCodecTest, SizeIsHeaderNormsAndCeilDTimesBOverEightBytes) {
  for (int bits = kMinQuantizedBits; bits <= kMaxQuantizedBits; ++bits) {
    for (const size_t dim : {1, 2, 7, 8, 9, 15, 16, 17, 1023, 1024, 1025}) {
      for (const int64_t bucket : {0, 1, 7, 512}) {
        const std::vector<uint8_t> bytes =
            EncodeOnce(Gaussian(dim, static_cast<uint32_t>(dim)), bits, bucket);
        const int64_t m =
            QuantizationBucketSize(static_cast<int64_t>(dim), bucket);
        const size_t buckets =
            (dim + static_cast<size_t>(m) - 1) / static_cast<size_t>(m);

        ASSERT_EQ(bytes.size(),
                  kQuantizedHeaderBytes + 4 * buckets + (dim * bits + 7) / 8)
            << "dim " << dim << " bits " << bits << " bucket " << bucket;
        ASSERT_TRUE(DecodeStatus(bytes, dim, bits, bucket).ok())
            << "dim " << dim << " bits " << bits << " bucket " << bucket;
      }
    }
  }
}

TEST(QsgdCodecTest, BucketZeroOrAboveTheDimensionIsOneBucket) {
  EXPECT_EQ(QuantizationBucketSize(100, 0), 100);
  EXPECT_EQ(QuantizationBucketSize(100, 101), 100);
  EXPECT_EQ(QuantizationBucketSize(100, 100), 100);
  EXPECT_EQ(QuantizationBucketSize(100, 7), 7);
  EXPECT_EQ(QuantizationBucketCount(100, 7), 15);
  EXPECT_EQ(QuantizationBucketCount(100, 100), 1);
  EXPECT_EQ(QuantizedSize(100, 4, 100), 26U + 4 + 50);
  EXPECT_EQ(QsgdCodec(100, 4, 0, 1).settings(),
            "4-bit quantiser with buckets of 100");
  EXPECT_NE(QsgdCodec(100, 4, 7, 1).settings(),
            QsgdCodec(100, 4, 8, 1).settings());
  EXPECT_NE(QsgdCodec(100, 4, 7, 1).settings(),
            QsgdCodec(100, 5, 7, 1).settings());
}

// d = 1000 in buckets of 64 (the last of 40), each bucket at another scale
// (10^-3 .. 10^3): every decoded value is a signed level of its own
// bucket's norm, which the message carries.
TEST(QsgdCodecTest, DecodedValuesAreSignedLevelsOfTheirBucketsNorm) {
  constexpr size_t kDim = 1000;
  constexpr size_t kBucket = 64;
  std::vector<float> g = Gaussian(kDim, 8);
  for (size_t i = 0; i < kDim; ++i) {
    g[i] *= std::pow(10.0F, static_cast<float>(i / kBucket % 7) - 3.0F);
  }
  for (const int bits : {2, 3, 4, 8, 9, 16}) {
    QsgdCodec codec(kDim, bits, kBucket, 3);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(codec.Encode(g, &bytes).ok());
    std::vector<float> decoded(kDim);
    ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
    const double levels = QuantizationLevels(bits);

    ASSERT_EQ(bytes.size(), QuantizedSize(kDim, bits, kBucket));
    for (size_t k = 0; k < 16; ++k) {
      const double exact =
          Norm(g, k * kBucket, std::min(kDim, (k + 1) * kBucket));
      ASSERT_NEAR(BucketNorm(bytes, k), exact, 1e-6 * exact) << "bucket " << k;
    }
    for (size_t i = 0; i < kDim; ++i) {
      const float norm = BucketNorm(bytes, i / kBucket);
      const double level = std::fabs(decoded[i]) / norm * levels;
      // float32 rounding of norm / s * l: a few ulps of the level.
      ASSERT_NEAR(level, std::round(level), 1e-3 + 4e-7 * levels)
          << "bits " << bits;
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

// g = (0, -2, 0) at B = 4 in buckets of 2: bucket 0 = (0, -2) has norm 2,
// zeta_1 = 7 = s, so the code is level 7 with the sign bit, 0b1111, in bits
// 4..7 of the payload; bucket 1 = (0) has norm 0.
TEST(QsgdCodecTest, WireLayoutIsHeaderNormsThenLsbFirstFields) {
  const std::vector<uint8_t> bytes = EncodeOnce({0.0F, -2.0F, 0.0F}, 4, 2);

  const std::vector<uint8_t> expected = {
      0x52, 4,                             // magic (format 2), B
      3,    0,    0,    0,    0, 0, 0, 0,  // dim
      2,    0,    0,    0,    0, 0, 0, 0,  // bucket size
      2,    0,    0,    0,    0, 0, 0, 0,  // bucket count
      0x00, 0x00, 0x00, 0x40,              // norm of bucket 0: 2.0F
      0x00, 0x00, 0x00, 0x00,              // norm of bucket 1: 0.0F
      0xf0, 0x00};                         // codes 0, 15, 0 + padding
  EXPECT_EQ(bytes, expected);
}

TEST(QsgdCodecTest, OneHotVectorIsExact) {
  std::vector<float> g(100, 0.0F);
  g[42] = -3.25F;
  QsgdCodec codec(100, 5, 16, 1);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());
  std::vector<float> decoded(100, 1.0F);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  EXPECT_EQ(decoded, g);
}

TEST(QsgdCodecTest, ZeroVectorEncodesToZeros) {
  const std::vector<float> g(33, 0.0F);
  QsgdCodec codec(33, 6, 8, 1);
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
    QsgdCodec codec(50, 8, 0, 1);
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
  QsgdCodec codec(8, 4, 0, 1);
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
  QsgdCodec a(500, 3, 64, 7);
  QsgdCodec b(500, 3, 64, 7);
  QsgdCodec c(500, 3, 64, 8);
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
  bytes[0] = 0x53;
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "magic byte 83");
  bytes[0] = 0x51;  // a version-1 message, one norm for the whole vector
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "format version 1");

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
    std::memcpy(bytes.data() + kQuantizedHeaderBytes, &norm, sizeof(norm));
    ExpectDataLoss(DecodeStatus(bytes, 20, 4), "bucket 0 has norm");
  }
}

// Payloads from a hostile peer: every header field of the buckets, and the
// norm of a bucket past the first, is checked against the codec.
TEST(QsgdCodecTest, DecodeRejectsMalformedBuckets) {
  constexpr size_t kDim = 100;
  constexpr int64_t kBucket = 16;  // 7 buckets, the last of 4
  const std::vector<uint8_t> valid = EncodeOnce(Gaussian(kDim, 6), 4, kBucket);
  ASSERT_TRUE(DecodeStatus(valid, kDim, 4, kBucket).ok());
  constexpr size_t kBucketSizeAt = 10;
  constexpr size_t kBucketCountAt = 18;

  std::vector<uint8_t> bytes = valid;
  for (const uint64_t bucket : {uint64_t{0}, uint64_t{101}, ~uint64_t{0}}) {
    WriteU64(&bytes, kBucketSizeAt, bucket);
    ExpectDataLoss(
        DecodeStatus(bytes, kDim, 4, kBucket),
        "bucket size " + std::to_string(bucket) + ", outside [1, 100]");
  }
  // A valid size, but not this codec's (7 buckets of 15 would also fit).
  WriteU64(&bytes, kBucketSizeAt, 15);
  ExpectDataLoss(DecodeStatus(bytes, kDim, 4, kBucket),
                 "bucket size 15, this codec uses 16");
  // A codec with one bucket refuses the bucketed message, and the reverse.
  ExpectDataLoss(DecodeStatus(valid, kDim, 4, 0),
                 "bucket size 16, this codec uses 100");
  ExpectDataLoss(
      DecodeStatus(EncodeOnce(Gaussian(kDim, 6), 4), kDim, 4, kBucket),
      "bucket size 100, this codec uses 16");

  for (const uint64_t count :
       {uint64_t{0}, uint64_t{6}, uint64_t{8}, uint64_t{100}, ~uint64_t{0}}) {
    bytes = valid;
    WriteU64(&bytes, kBucketCountAt, count);
    ExpectDataLoss(DecodeStatus(bytes, kDim, 4, kBucket),
                   "has " + std::to_string(count) + " buckets, expected 7");
  }

  // A bad norm in the last bucket, after six good ones.
  const float bad_norms[] = {std::numeric_limits<float>::quiet_NaN(),
                             -std::numeric_limits<float>::infinity(), -0.5F};
  for (const float norm : bad_norms) {
    bytes = valid;
    constexpr size_t kLastNormAt = kQuantizedHeaderBytes + 24;  // bucket 6
    std::memcpy(bytes.data() + kLastNormAt, &norm, sizeof(norm));
    ExpectDataLoss(DecodeStatus(bytes, kDim, 4, kBucket), "bucket 6 has norm");
  }

  // Cut inside the norms: a size error, not a read past the end.
  bytes.assign(valid.begin(), valid.begin() + kQuantizedHeaderBytes + 10);
  ExpectDataLoss(DecodeStatus(bytes, kDim, 4, kBucket),
                 "36 bytes, expected 104 (truncated; 26-byte header + 7 "
                 "bucket norms + 100 coordinates at 4 bits)");
}

// Every payload with a valid header decodes to finite values, whatever its
// norms: the largest float norm at the largest level is FLT_MAX.
TEST(QsgdCodecTest, LargestNormsDecodeFinite) {
  constexpr size_t kDim = 40;
  std::vector<uint8_t> bytes = EncodeOnce(Gaussian(kDim, 2), 16, 8);
  const float largest = std::numeric_limits<float>::max();
  for (size_t k = 0; k < 5; ++k) {
    std::memcpy(bytes.data() + kQuantizedHeaderBytes + 4 * k, &largest,
                sizeof(largest));
  }
  std::fill(bytes.begin() + kQuantizedHeaderBytes + 20, bytes.end(),
            uint8_t{0xff});
  QsgdCodec codec(kDim, 16, 8, 1);
  std::vector<float> decoded(kDim);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  for (const float value : decoded) {
    EXPECT_LE(value, -largest * (1 - 1e-6F));
    EXPECT_GE(value, -largest);
  }
}

TEST(QsgdCodecTest, DecodeRejectsWrongPayloadSize) {
  // 26-byte header, 1 norm and 10 bytes of levels.
  const std::vector<uint8_t> valid = EncodeOnce(Gaussian(20, 6), 4);

  std::vector<uint8_t> bytes(valid.begin(), valid.end() - 1);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4),
                 "39 bytes, expected 40 (truncated");
  bytes = valid;
  bytes.push_back(0);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4),
                 "41 bytes, expected 40 (oversized");
  bytes.assign(valid.begin(), valid.begin() + 25);
  ExpectDataLoss(DecodeStatus(bytes, 20, 4), "25 bytes, shorter than the 26");
}

// d = 3 at B = 4 fills 12 of the payload's 16 bits; the last 4 must be 0.
TEST(QsgdCodecTest, DecodeRejectsNonzeroPaddingBits) {
  std::vector<uint8_t> bytes = EncodeOnce({1.0F, 2.0F, 3.0F}, 4);
  ASSERT_EQ(bytes.size(), kQuantizedHeaderBytes + 4 + 2);
  bytes.back() |= 0x80;

  ExpectDataLoss(DecodeStatus(bytes, 3, 4), "padding");
}

// With 1 sign bit and B - 1 level bits, a level field cannot exceed
// s = 2^(B-1) - 1: all-ones codes are the largest level, a valid value.
TEST(QsgdCodecTest, EveryPayloadBitPatternIsALevelAtMostS) {
  std::vector<uint8_t> bytes = EncodeOnce(Gaussian(16, 1), 4);
  std::fill(bytes.begin() + kQuantizedHeaderBytes + 4, bytes.end(),
            uint8_t{0xff});
  const float norm = BucketNorm(bytes, 0);
  QsgdCodec codec(16, 4, 0, 1);
  std::vector<float> decoded(16);

  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  for (const float value : decoded) {
    EXPECT_FLOAT_EQ(value, -norm);
  }
}

}  // namespace
}  // namespace anchorage::codec
