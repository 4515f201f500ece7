#include "common/codec/fp16_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::codec {
namespace {

// Decodes the halves `patterns` (given as their bit patterns).
std::vector<float> DecodeHalves(const std::vector<uint16_t>& patterns) {
  Fp16Codec codec(static_cast<int64_t>(patterns.size()));
  std::vector<uint8_t> bytes(patterns.size() * 2);
  std::memcpy(bytes.data(), patterns.data(), bytes.size());
  std::vector<float> values(patterns.size());
  const Status status = codec.Decode(bytes, values);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return values;
}

// Encodes `values` and returns the halves' bit patterns.
std::vector<uint16_t> EncodeHalves(const std::vector<float>& values) {
  Fp16Codec codec(static_cast<int64_t>(values.size()));
  std::vector<uint8_t> bytes;
  const Status status = codec.Encode(values, &bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(bytes.size(), values.size() * 2);
  std::vector<uint16_t> patterns(values.size());
  std::memcpy(patterns.data(), bytes.data(), bytes.size());
  return patterns;
}

bool IsHalfNan(uint16_t h) {
  return (h & 0x7c00U) == 0x7c00U && (h & 0x3ffU);
}

TEST(Fp16CodecTest, EveryHalfDecodesExactlyAndEncodesBackToItself) {
  std::vector<uint16_t> all(1 << 16);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<uint16_t>(i);
  }

  const std::vector<float> decoded = DecodeHalves(all);
  const std::vector<uint16_t> again = EncodeHalves(decoded);

  for (size_t i = 0; i < all.size(); ++i) {
    const uint16_t h = all[i];
    if (IsHalfNan(h)) {
      ASSERT_TRUE(std::isnan(decoded[i])) << std::hex << h;
      ASSERT_EQ(again[i], (h & 0x8000U) | 0x7e00U) << std::hex << h;
    } else {
      ASSERT_EQ(again[i], h) << std::hex << h;
    }
  }
  // Spot values: 1, -2, the largest finite, the smallest subnormal, inf.
  EXPECT_EQ(decoded[0x3c00], 1.0F);
  EXPECT_EQ(decoded[0xc000], -2.0F);
  EXPECT_EQ(decoded[0x7bff], 65504.0F);
  EXPECT_EQ(decoded[0x0001], 0x1p-24F);
  EXPECT_EQ(decoded[0x03ff], 0x3ffp-24F);
  EXPECT_EQ(decoded[0x7c00], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::signbit(decoded[0x8000]));
}

// For every pair of adjacent finite halves (h, h + 1), the midpoint rounds
// to the even one and its float neighbours round to the nearer one.
TEST(Fp16CodecTest, RoundsToNearestEvenAtEveryMidpoint) {
  std::vector<uint16_t> lower;
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    lower.push_back(static_cast<uint16_t>(h));
    lower.push_back(static_cast<uint16_t>(h | 0x8000U));
  }
  std::vector<uint16_t> upper(lower);
  for (uint16_t& h : upper) {
    ++h;
  }
  const std::vector<float> lo = DecodeHalves(lower);
  const std::vector<float> hi = DecodeHalves(upper);
  std::vector<float> probes;
  for (size_t i = 0; i < lo.size(); ++i) {
    const float mid = (lo[i] + hi[i]) / 2;  // exact: 12 significant bits
    probes.push_back(mid);
    probes.push_back(std::nextafter(mid, lo[i]));
    probes.push_back(std::nextafter(mid, hi[i]));
  }

  const std::vector<uint16_t> encoded = EncodeHalves(probes);

  for (size_t i = 0; i < lo.size(); ++i) {
    const uint16_t even = (lower[i] & 1U) == 0 ? lower[i] : upper[i];
    ASSERT_EQ(encoded[3 * i], even)
        << "midpoint above " << std::hex << lower[i];
    ASSERT_EQ(encoded[3 * i + 1], lower[i]) << std::hex << lower[i];
    ASSERT_EQ(encoded[3 * i + 2], upper[i]) << std::hex << lower[i];
  }
}

TEST(Fp16CodecTest, RoundTripErrorIsWithinHalfAnUlp) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> exponent(-26.0, 15.99);
  std::vector<float> values(20000);
  for (size_t i = 0; i < values.size(); ++i) {
    const double magnitude = std::exp2(exponent(rng));
    values[i] = static_cast<float>(i % 2 == 0 ? magnitude : -magnitude);
  }
  Fp16Codec codec(static_cast<int64_t>(values.size()));
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());
  std::vector<float> decoded(values.size());
  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    // The half ulp at |x|: 2^(e - 10) in binade e >= -14, else 2^-24.
    const int e =
        std::max(static_cast<int>(std::floor(std::log2(std::fabs(x)))), -14);
    const double half_ulp = std::exp2(e - 10) / 2;
    ASSERT_LE(std::fabs(decoded[i] - x), half_ulp) << "x = " << x;
  }
}

TEST(Fp16CodecTest, FiniteOverflowSaturatesToLargestHalf) {
  const float max = std::numeric_limits<float>::max();
  const std::vector<float> values = {65504.0F, 65519.99F, 65520.0F, 1.0e6F,
                                     max,      -65520.0F, -1.0e30F, -max};
  const std::vector<uint16_t> encoded = EncodeHalves(values);

  const std::vector<uint16_t> expected = {0x7bff, 0x7bff, 0x7bff, 0x7bff,
                                          0x7bff, 0xfbff, 0xfbff, 0xfbff};
  EXPECT_EQ(encoded, expected);
}

TEST(Fp16CodecTest, InfinityStaysInfinityAndNanStaysNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {inf, -inf, std::nanf(""), -std::nanf(""),
                                     std::bit_cast<float>(0x7f800001U)};
  const std::vector<uint16_t> encoded = EncodeHalves(values);
  const std::vector<float> decoded = DecodeHalves(encoded);

  EXPECT_EQ(encoded[0], 0x7c00);
  EXPECT_EQ(encoded[1], 0xfc00);
  EXPECT_EQ(encoded[2], 0x7e00);
  EXPECT_EQ(encoded[3], 0xfe00);
  EXPECT_EQ(encoded[4], 0x7e00);  // a signalling NaN does not become inf
  EXPECT_EQ(decoded[0], inf);
  EXPECT_EQ(decoded[1], -inf);
  EXPECT_TRUE(std::isnan(decoded[2]));
  EXPECT_TRUE(std::isnan(decoded[3]));
  EXPECT_TRUE(std::signbit(decoded[3]));
}

TEST(Fp16CodecTest, TinyValuesRoundIntoSubnormalsOrSignedZero) {
  const std::vector<float> values = {0x1p-25F,  // tie: rounds to even 0
                                     0x1.0002p-25F, -0x1p-26F,
                                     std::numeric_limits<float>::denorm_min(),
                                     0x3p-25F};  // tie between 1 and 2 ulps
  const std::vector<uint16_t> encoded = EncodeHalves(values);

  const std::vector<uint16_t> expected = {0x0000, 0x0001, 0x8000, 0x0000,
                                          0x0002};
  EXPECT_EQ(encoded, expected);
}

TEST(Fp16CodecTest, EncodingIsTwoLittleEndianBytesPerCoordinate) {
  Fp16Codec codec(3);
  const std::vector<float> values = {1.0F, -2.0F, 0.5F};
  std::vector<uint8_t> bytes = {1, 2, 3, 4, 5, 6, 7, 8, 9};

  ASSERT_TRUE(codec.Encode(values, &bytes).ok());

  const std::vector<uint8_t> expected = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38};
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(static_cast<int64_t>(bytes.size()) * 2, codec.raw_bytes());
}

TEST(Fp16CodecTest, DecodeOfWrongSizeNamesSizes) {
  Fp16Codec codec(5);
  std::vector<float> out(5);

  const Status truncated = codec.Decode(std::vector<uint8_t>(9), out);
  const Status oversized = codec.Decode(std::vector<uint8_t>(11), out);

  EXPECT_EQ(truncated.code(), Status::Code::kDataLoss);
  EXPECT_NE(truncated.message().find("9 bytes, expected 10"), std::string::npos)
      << truncated.ToString();
  EXPECT_NE(truncated.message().find("truncated"), std::string::npos);
  EXPECT_EQ(oversized.code(), Status::Code::kDataLoss);
  EXPECT_NE(oversized.message().find("oversized"), std::string::npos);
}

}  // namespace
}  // namespace anchorage::codec
