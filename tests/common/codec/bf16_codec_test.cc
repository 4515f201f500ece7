#include "common/codec/bf16_codec.h"

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

std::vector<float> DecodeBf16(const std::vector<uint16_t>& patterns) {
  Bf16Codec codec(static_cast<int64_t>(patterns.size()));
  std::vector<uint8_t> bytes(patterns.size() * 2);
  std::memcpy(bytes.data(), patterns.data(), bytes.size());
  std::vector<float> values(patterns.size());
  const Status status = codec.Decode(bytes, values);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return values;
}

std::vector<uint16_t> EncodeBf16(const std::vector<float>& values) {
  Bf16Codec codec(static_cast<int64_t>(values.size()));
  std::vector<uint8_t> bytes;
  const Status status = codec.Encode(values, &bytes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(bytes.size(), values.size() * 2);
  std::vector<uint16_t> patterns(values.size());
  std::memcpy(patterns.data(), bytes.data(), bytes.size());
  return patterns;
}

TEST(Bf16CodecTest, EveryBf16IsItsFloatTopHalfAndEncodesBackToItself) {
  std::vector<uint16_t> all(1 << 16);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<uint16_t>(i);
  }

  const std::vector<float> decoded = DecodeBf16(all);
  const std::vector<uint16_t> again = EncodeBf16(decoded);

  for (size_t i = 0; i < all.size(); ++i) {
    const uint16_t h = all[i];
    ASSERT_EQ(std::bit_cast<uint32_t>(decoded[i]), uint32_t{h} << 16);
    const bool nan = (h & 0x7f80U) == 0x7f80U && (h & 0x7fU) != 0;
    // NaNs come back quiet (bit 6 set) with sign and payload kept.
    ASSERT_EQ(again[i], nan ? (h | 0x40U) : h) << std::hex << h;
  }
}

TEST(Bf16CodecTest, RoundsToNearestEvenAtEveryMidpoint) {
  std::vector<float> probes;
  std::vector<uint16_t> lower;
  for (uint32_t h = 0; h < 0x7f7f; ++h) {
    for (const uint32_t sign : {0U, 0x8000U}) {
      const uint32_t low = h | sign;
      lower.push_back(static_cast<uint16_t>(low));
      // The float halfway between bf16 `low` and `low + 1`.
      const uint32_t mid = (low << 16) | 0x8000U;
      probes.push_back(std::bit_cast<float>(mid));
      probes.push_back(std::bit_cast<float>(mid - 1));
      probes.push_back(std::bit_cast<float>(mid + 1));
    }
  }

  const std::vector<uint16_t> encoded = EncodeBf16(probes);

  for (size_t i = 0; i < lower.size(); ++i) {
    const uint16_t low = lower[i];
    const auto high = static_cast<uint16_t>(low + 1);
    ASSERT_EQ(encoded[3 * i], (low & 1U) == 0 ? low : high) << std::hex << low;
    ASSERT_EQ(encoded[3 * i + 1], low) << std::hex << low;
    ASSERT_EQ(encoded[3 * i + 2], high) << std::hex << low;
  }
}

TEST(Bf16CodecTest, RoundTripErrorIsWithinHalfAnUlp) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> exponent(-125.0, 127.0);
  std::vector<float> values(20000);
  for (size_t i = 0; i < values.size(); ++i) {
    const double magnitude = std::exp2(exponent(rng));
    values[i] = static_cast<float>(i % 2 == 0 ? magnitude : -magnitude);
  }
  Bf16Codec codec(static_cast<int64_t>(values.size()));
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());
  std::vector<float> decoded(values.size());
  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    // bfloat16 keeps 7 mantissa bits: the half ulp in binade e is 2^(e-8).
    const int e = static_cast<int>(std::floor(std::log2(std::fabs(x))));
    ASSERT_LE(std::fabs(decoded[i] - x), std::exp2(e - 8)) << "x = " << x;
  }
}

TEST(Bf16CodecTest, FiniteOverflowSaturatesToLargestBf16) {
  const float max = std::numeric_limits<float>::max();
  const float midpoint = std::bit_cast<float>(0x7f7f8000U);  // rounds to inf
  const std::vector<float> values = {max, midpoint,
                                     std::bit_cast<float>(0x7f7f7fffU), -max};
  const std::vector<uint16_t> encoded = EncodeBf16(values);

  const std::vector<uint16_t> expected = {0x7f7f, 0x7f7f, 0x7f7f, 0xff7f};
  EXPECT_EQ(encoded, expected);
  EXPECT_EQ(DecodeBf16({0x7f7f})[0], 3.3895313892515355e38F);
}

TEST(Bf16CodecTest, InfinityStaysInfinityAndNanStaysNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {inf, -inf, std::nanf(""),
                                     std::bit_cast<float>(0x7f800001U),
                                     std::bit_cast<float>(0xff812345U)};
  const std::vector<uint16_t> encoded = EncodeBf16(values);
  const std::vector<float> decoded = DecodeBf16(encoded);

  EXPECT_EQ(encoded[0], 0x7f80);
  EXPECT_EQ(encoded[1], 0xff80);
  EXPECT_EQ(encoded[2], 0x7fc0);
  // Plain truncation would turn these NaNs into infinities.
  EXPECT_EQ(encoded[3], 0x7fc0);
  EXPECT_EQ(encoded[4], 0xffc1);
  EXPECT_EQ(decoded[0], inf);
  EXPECT_EQ(decoded[1], -inf);
  EXPECT_TRUE(std::isnan(decoded[2]));
  EXPECT_TRUE(std::isnan(decoded[3]));
  EXPECT_TRUE(std::isnan(decoded[4]));
  EXPECT_TRUE(std::signbit(decoded[4]));
}

TEST(Bf16CodecTest, RepresentableValuesAreExact) {
  const std::vector<float> values = {0.0F,     -0.0F,    1.0F,      -1.5F,
                                     0.15625F, 256.0F,   0x1p-126F, 0x1p-133F,
                                     1.0e38F,  -3.0e-39F};
  std::vector<float> exact(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    // Keep only the bf16 bits of the test value.
    exact[i] =
        std::bit_cast<float>(std::bit_cast<uint32_t>(values[i]) & 0xffff0000U);
  }
  const std::vector<float> decoded = DecodeBf16(EncodeBf16(exact));

  for (size_t i = 0; i < exact.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint32_t>(decoded[i]),
              std::bit_cast<uint32_t>(exact[i]))
        << exact[i];
  }
}

TEST(Bf16CodecTest, DecodeOfWrongSizeNamesSizes) {
  Bf16Codec codec(4);
  std::vector<float> out(4);

  const Status truncated = codec.Decode(std::vector<uint8_t>(7), out);
  const Status oversized = codec.Decode(std::vector<uint8_t>(10), out);

  EXPECT_EQ(truncated.code(), Status::Code::kDataLoss);
  EXPECT_NE(truncated.message().find("7 bytes, expected 8"), std::string::npos)
      << truncated.ToString();
  EXPECT_EQ(oversized.code(), Status::Code::kDataLoss);
  EXPECT_NE(oversized.message().find("10 bytes"), std::string::npos);
}

}  // namespace
}  // namespace anchorage::codec
