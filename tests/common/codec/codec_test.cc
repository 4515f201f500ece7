#include "common/codec/codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/codec/dense_codec.h"

namespace anchorage::codec {
namespace {

// Returns the bit pattern of `value`, so -0.0F and 0.0F compare different.
uint32_t Bits(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

// Values whose float32 bits must survive a round trip unchanged.
std::vector<float> Awkward() {
  return {
      0.0F,
      -0.0F,
      1.0F,
      -1.5F,
      std::numeric_limits<float>::denorm_min(),
      -std::numeric_limits<float>::denorm_min(),
      std::numeric_limits<float>::min() / 3.0F,  // a denormal
      std::numeric_limits<float>::min(),
      std::numeric_limits<float>::max(),
      -std::numeric_limits<float>::max(),
      std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity(),
      3.0e38F,
      1.17549e-38F,
      0.1F,
      123456.789F,
  };
}

std::unique_ptr<Codec> MakeOrDie(std::string_view name, int64_t dim) {
  StatusOr<std::unique_ptr<Codec>> codec = MakeCodec(name, dim);
  EXPECT_TRUE(codec.ok()) << codec.status().ToString();
  return codec.ok() ? std::move(*codec) : nullptr;
}

TEST(DenseCodecTest, RoundTripIsBitExact) {
  const std::vector<float> values = Awkward();
  const std::unique_ptr<Codec> codec =
      MakeOrDie("dense", static_cast<int64_t>(values.size()));
  ASSERT_NE(codec, nullptr);

  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec->Encode(values, &bytes).ok());
  std::vector<float> decoded(values.size(), 42.0F);
  const Status status = codec->Decode(bytes, decoded);

  ASSERT_TRUE(status.ok()) << status.ToString();
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(Bits(decoded[i]), Bits(values[i])) << "index " << i;
  }
}

TEST(DenseCodecTest, NanPayloadSurvivesRoundTrip) {
  const std::vector<float> values = {std::nanf("0x12345")};
  DenseCodec codec(1);

  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());
  std::vector<float> decoded(1);
  ASSERT_TRUE(codec.Decode(bytes, decoded).ok());

  EXPECT_TRUE(std::isnan(decoded[0]));
  EXPECT_EQ(Bits(decoded[0]), Bits(values[0]));
}

TEST(DenseCodecTest, EncodingIsLittleEndianFloat32) {
  DenseCodec codec(2);
  const std::vector<float> values = {1.0F, -2.0F};

  std::vector<uint8_t> bytes = {9, 9, 9};  // replaced, not appended to
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());

  const std::vector<uint8_t> expected = {0x00, 0x00, 0x80, 0x3f,
                                         0x00, 0x00, 0x00, 0xc0};
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(static_cast<int64_t>(bytes.size()), codec.raw_bytes());
}

TEST(DenseCodecTest, ReportsNameAndDimension) {
  const std::unique_ptr<Codec> codec = MakeOrDie("dense", 7);
  ASSERT_NE(codec, nullptr);

  EXPECT_EQ(codec->name(), "dense");
  EXPECT_EQ(codec->dim(), 7);
  EXPECT_EQ(codec->raw_bytes(), 28);
}

TEST(DenseCodecTest, EncodeOfWrongSizeIsInvalidArgument) {
  DenseCodec codec(4);
  const std::vector<float> too_short = {1.0F, 2.0F, 3.0F};
  const std::vector<float> too_long = {1.0F, 2.0F, 3.0F, 4.0F, 5.0F};
  std::vector<uint8_t> bytes;

  const Status short_status = codec.Encode(too_short, &bytes);
  const Status long_status = codec.Encode(too_long, &bytes);

  EXPECT_EQ(short_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(short_status.message().find('3'), std::string::npos)
      << short_status.ToString();
  EXPECT_NE(short_status.message().find('4'), std::string::npos)
      << short_status.ToString();
  EXPECT_EQ(long_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(long_status.message().find('5'), std::string::npos)
      << long_status.ToString();
}

TEST(DenseCodecTest, DecodeOfTruncatedBytesIsDataLossWithSizes) {
  DenseCodec codec(4);
  const std::vector<uint8_t> bytes(15, 0);
  std::vector<float> out(4);

  const Status status = codec.Decode(bytes, out);

  EXPECT_EQ(status.code(), Status::Code::kDataLoss);
  EXPECT_NE(status.message().find("15"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("16"), std::string::npos)
      << status.ToString();
}

TEST(DenseCodecTest, DecodeOfOversizedBytesIsDataLossWithSizes) {
  DenseCodec codec(4);
  const std::vector<uint8_t> bytes(20, 0);
  std::vector<float> out(4);

  const Status status = codec.Decode(bytes, out);

  EXPECT_EQ(status.code(), Status::Code::kDataLoss);
  EXPECT_NE(status.message().find("20"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("16"), std::string::npos)
      << status.ToString();
}

TEST(DenseCodecTest, DecodeOfEmptyBytesIsDataLoss) {
  DenseCodec codec(3);
  std::vector<float> out(3);

  const Status status = codec.Decode({}, out);

  EXPECT_EQ(status.code(), Status::Code::kDataLoss);
  EXPECT_NE(status.message().find("12"), std::string::npos)
      << status.ToString();
}

TEST(DenseCodecTest, DecodeIntoWrongSizeOutputIsRejected) {
  DenseCodec codec(2);
  const std::vector<uint8_t> bytes(8, 0);
  std::vector<float> out(3, 5.0F);

  const Status status = codec.Decode(bytes, out);

  EXPECT_FALSE(status.ok());
}

TEST(DenseCodecTest, DecodesFromMisalignedBuffer) {
  const std::vector<float> values = {1.25F, -0.0F, 3.0e-40F, 7.0F, -9.5e30F};
  DenseCodec codec(static_cast<int64_t>(values.size()));
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());
  // Place the encoding one byte into a float-aligned buffer so its address
  // is odd, as ZeroMQ may deliver it.
  std::vector<float> storage(values.size() + 2);
  auto* base = reinterpret_cast<uint8_t*>(storage.data());
  std::memcpy(base + 1, bytes.data(), bytes.size());
  const std::span<const uint8_t> misaligned(base + 1, bytes.size());
  ASSERT_NE(
      reinterpret_cast<std::uintptr_t>(misaligned.data()) % alignof(float), 0U);

  std::vector<float> decoded(values.size());
  const Status status = codec.Decode(misaligned, decoded);

  ASSERT_TRUE(status.ok()) << status.ToString();
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(Bits(decoded[i]), Bits(values[i])) << "index " << i;
  }
}

TEST(DenseCodecTest, LargeVectorRoundTrips) {
  constexpr int64_t kDim = 1 << 16;
  std::vector<float> values(kDim);
  for (int64_t i = 0; i < kDim; ++i) {
    values[static_cast<size_t>(i)] =
        static_cast<float>(i) * (i % 2 == 0 ? 1.0F : -1.0F) * 1.0e-3F;
  }
  const std::unique_ptr<Codec> codec = MakeOrDie("dense", kDim);
  ASSERT_NE(codec, nullptr);

  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec->Encode(values, &bytes).ok());
  std::vector<float> decoded(values.size());
  ASSERT_TRUE(codec->Decode(bytes, decoded).ok());

  EXPECT_EQ(decoded, values);
}

TEST(MakeCodecTest, UnknownNameIsInvalidArgumentListingKnownCodecs) {
  const StatusOr<std::unique_ptr<Codec>> codec = MakeCodec("nope", 8);

  ASSERT_FALSE(codec.ok());
  EXPECT_EQ(codec.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(codec.status().message().find("nope"), std::string::npos)
      << codec.status().ToString();
  EXPECT_NE(codec.status().message().find("dense"), std::string::npos)
      << codec.status().ToString();
}

TEST(MakeCodecTest, RejectsNonPositiveDimension) {
  for (const int64_t dim : {int64_t{0}, int64_t{-1}, int64_t{-1000}}) {
    const StatusOr<std::unique_ptr<Codec>> codec = MakeCodec("dense", dim);

    ASSERT_FALSE(codec.ok()) << "dim " << dim;
    EXPECT_EQ(codec.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(codec.status().message().find(std::to_string(dim)),
              std::string::npos)
        << codec.status().ToString();
  }
}

TEST(MakeCodecTest, NameMatchIsExact) {
  for (const char* name : {"Dense", "dense ", "", "densee", "dens"}) {
    EXPECT_FALSE(MakeCodec(name, 4).ok()) << "'" << name << "'";
    EXPECT_EQ(ValidateCodecName(name).code(), Status::Code::kInvalidArgument)
        << "'" << name << "'";
  }
}

TEST(ValidateCodecNameTest, AcceptsEveryRegisteredCodec) {
  for (const char* name : {"dense", "fp16", "bf16", "qsgd", "dqsgd", "topk"}) {
    EXPECT_TRUE(ValidateCodecName(name).ok()) << name;
    EXPECT_TRUE(MakeCodec(name, 16).ok()) << name;
  }
}

TEST(ValidateCodecNameTest, UnknownNameListsKnownCodecs) {
  const Status status = ValidateCodecName("qsgd-9");

  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("qsgd-9"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("dense"), std::string::npos)
      << status.ToString();
}

}  // namespace
}  // namespace anchorage::codec
