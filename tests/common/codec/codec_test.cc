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
  for (const char* name : {"dense", "fp16", "bf16", "qsgd", "dqsgd", "topk",
                           "sketch", "fetchsgd", "global-topk"}) {
    EXPECT_TRUE(ValidateCodecName(name).ok()) << name;
    EXPECT_TRUE(MakeCodec(name, 16).ok()) << name;
  }
}

// The registry's order is the fuzz corpus's first byte: new codecs go at
// the end.
TEST(ValidateCodecNameTest, CodecNamesListsTheRegistryInOrder) {
  EXPECT_EQ(CodecNames(), (std::vector<std::string_view>{
                              "dense", "fp16", "bf16", "qsgd", "dqsgd", "topk",
                              "sketch", "fetchsgd", "global-topk"}));
}

TEST(ValidateCodecNameTest, UnknownNameListsKnownCodecs) {
  const Status status = ValidateCodecName("qsgd-9");

  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("qsgd-9"), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find("dense"), std::string::npos)
      << status.ToString();
}

// Expects InvalidArgument whose message names `field` and `value`.
void ExpectBadOption(std::string_view name, const CodecOptions& options,
                     const std::string& field, const std::string& value) {
  const Status status = ValidateCodecOptions(name, options);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument)
      << name << ": " << status.ToString();
  EXPECT_NE(status.message().find(field), std::string::npos)
      << status.ToString();
  EXPECT_NE(status.message().find(value), std::string::npos)
      << status.ToString();
  EXPECT_FALSE(MakeCodec(name, 8, options).ok()) << name;
}

TEST(ValidateCodecOptionsTest, DefaultsAreValidForEveryCodec) {
  for (const char* name : {"dense", "fp16", "bf16", "qsgd", "dqsgd", "topk"}) {
    EXPECT_TRUE(ValidateCodecOptions(name, {}).ok()) << name;
  }
}

TEST(ValidateCodecOptionsTest, UnknownNameIsInvalidArgument) {
  const Status status = ValidateCodecOptions("zip", {});

  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("zip"), std::string::npos);
}

TEST(ValidateCodecOptionsTest, QsgdBitsOutOfRangeNamesTheField) {
  CodecOptions options;
  options.bits = 1;
  ExpectBadOption("qsgd", options, "bits", "1");
  options.bits = 17;
  ExpectBadOption("qsgd", options, "bits", "17");
}

TEST(ValidateCodecOptionsTest, NegativeBucketIsRefusedByBothQuantizers) {
  CodecOptions options;
  options.qsgd_bucket = -1;
  ExpectBadOption("qsgd", options, "qsgd_bucket", "-1");
  ExpectBadOption("dqsgd", options, "qsgd_bucket", "-1");
  options.qsgd_bucket = 0;  // one bucket
  EXPECT_TRUE(ValidateCodecOptions("qsgd", options).ok());
  EXPECT_TRUE(ValidateCodecOptions("dqsgd", options).ok());
}

TEST(ValidateCodecOptionsTest, CodecsIgnoreFieldsTheyDoNotRead) {
  CodecOptions options;
  options.bits = 99;
  options.topk_fraction = -1;

  EXPECT_TRUE(ValidateCodecOptions("dense", options).ok());
  EXPECT_TRUE(ValidateCodecOptions("fp16", options).ok());
  EXPECT_TRUE(MakeCodec("bf16", 4, options).ok());
}

TEST(ValidateCodecOptionsTest, TopkFractionOutsideUnitIntervalIsRejected) {
  CodecOptions options;
  options.topk_fraction = 0;
  ExpectBadOption("topk", options, "topk_fraction", "0");
  options.topk_fraction = 1.5;
  ExpectBadOption("topk", options, "topk_fraction", "1.5");
  options.topk_fraction = std::nan("");
  ExpectBadOption("topk", options, "topk_fraction", "nan");
  options.topk_fraction = 1;
  EXPECT_TRUE(ValidateCodecOptions("topk", options).ok());
}

TEST(ValidateCodecOptionsTest, DqsgdFieldsAreChecked) {
  CodecOptions options;
  options.dqsgd_total_steps = 0;
  ExpectBadOption("dqsgd", options, "dqsgd_total_steps", "0");

  options = {};
  options.bit_budget = 1.5;
  ExpectBadOption("dqsgd", options, "bit_budget", "1.5");

  options = {};
  options.bits = 20;  // the budget when bit_budget is 0
  ExpectBadOption("dqsgd", options, "bits", "20");

  options = {};
  options.dqsgd_scale = -2;
  ExpectBadOption("dqsgd", options, "dqsgd_scale", "-2");

  options = {};
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_l = 4;
  options.dqsgd_learning_rate = 0.5;  // >= 2 / L
  ExpectBadOption("dqsgd", options, "dqsgd_learning_rate", "0.5");

  options = {};
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_mu = 0;
  ExpectBadOption("dqsgd", options, "dqsgd_mu", "0");

  options = {};
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_mu = 2;
  options.dqsgd_l = 1;  // L < mu
  ExpectBadOption("dqsgd", options, "dqsgd_l", "1");

  options = {};
  options.dqsgd_rule = DqsgdRule::kStronglyConvex;
  options.dqsgd_mu = 1;
  options.dqsgd_l = 1;
  options.dqsgd_learning_rate = 1;  // alpha = 0
  ExpectBadOption("dqsgd", options, "alpha", "0");
}

// ---------------------------------------------------------------------------
// The contract every codec keeps, run over each registered codec.

struct CodecCase {
  std::string label;  // the test-name suffix
  std::string name;
  CodecOptions options;
  // qsgd, dqsgd, topk and global-topk start with a magic byte and dim.
  bool has_header;
  // A decoded coordinate may differ from its input by up to
  // absolute * |x|_2 + relative * |x_i| + tiny.
  double absolute;
  double relative;
  double tiny = 0;
};

// Buckets of 8 split the contract's 37 values into 5, the last of 5.
CodecOptions QsgdBits(int bits, int64_t bucket = 512) {
  CodecOptions options;
  options.bits = bits;
  options.qsgd_bucket = bucket;
  return options;
}

CodecOptions Dqsgd(DqsgdRule rule, int64_t bucket = 512) {
  CodecOptions options;
  options.dqsgd_rule = rule;
  options.dqsgd_total_steps = 50;
  options.qsgd_bucket = bucket;
  return options;
}

CodecOptions TopK(double fraction) {
  CodecOptions options;
  options.topk_fraction = fraction;
  return options;
}

std::vector<CodecCase> AllCodecCases() {
  return {
      {"Dense", "dense", {}, false, 0, 0},
      {"Fp16", "fp16", {}, false, 0, 0x1p-11, 0x1p-25},
      {"Bf16", "bf16", {}, false, 0, 0x1p-8},
      {"Qsgd2", "qsgd", QsgdBits(2), true, 1.0, 0},
      {"Qsgd4", "qsgd", QsgdBits(4), true, 1.0 / 7, 0},
      {"Qsgd7", "qsgd", QsgdBits(7), true, 1.0 / 63, 0},
      {"Qsgd13", "qsgd", QsgdBits(13), true, 1.0 / 4095, 0},
      {"Qsgd16", "qsgd", QsgdBits(16), true, 1.0 / 32767, 0},
      {"Qsgd4Buckets", "qsgd", QsgdBits(4, 8), true, 1.0 / 7, 0},
      {"Qsgd9OneBucket", "qsgd", QsgdBits(9, 0), true, 1.0 / 255, 0},
      {"DqsgdNonconvex", "dqsgd", Dqsgd(DqsgdRule::kNonconvex), true, 1.0, 0},
      {"DqsgdBuckets", "dqsgd", Dqsgd(DqsgdRule::kNonconvex, 8), true, 1.0, 0},
      {"DqsgdStronglyConvex", "dqsgd", Dqsgd(DqsgdRule::kStronglyConvex), true,
       1.0, 0},
      {"TopK10Percent", "topk", TopK(0.1), true, 0, 1.0},
      {"TopKOne", "topk", TopK(1e-9), true, 0, 1.0},
      // Decode is the one-round recovery of the first message, v = g.
      {"GlobalTopK10Percent", "global-topk", TopK(0.1), true, 0, 1.0},
      {"GlobalTopKAll", "global-topk", TopK(1.0), true, 0, 0},
  };
}

class CodecContractTest : public ::testing::TestWithParam<CodecCase> {
 protected:
  // Not a multiple of 8 or 16, so the packing tails are exercised.
  static constexpr int64_t kDim = 37;

  std::unique_ptr<Codec> Make(int64_t dim = kDim) const {
    StatusOr<std::unique_ptr<Codec>> codec =
        MakeCodec(GetParam().name, dim, GetParam().options);
    EXPECT_TRUE(codec.ok()) << codec.status().ToString();
    return codec.ok() ? std::move(*codec) : nullptr;
  }

  static std::vector<float> RandomValues(int64_t dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0F, 1.0F);
    std::vector<float> values(static_cast<size_t>(dim));
    for (float& value : values) {
      value = normal(rng);
    }
    return values;
  }

  // A valid encoding of a random vector.
  std::vector<uint8_t> ValidPayload(Codec* codec, uint32_t seed = 7) const {
    std::vector<uint8_t> bytes;
    const Status status =
        codec->Encode(RandomValues(codec->dim(), seed), &bytes);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return bytes;
  }
};

TEST_P(CodecContractTest, ReportsRegisteredNameAndDimension) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);

  EXPECT_EQ(codec->name(), GetParam().name);
  EXPECT_EQ(codec->dim(), kDim);
  EXPECT_EQ(codec->raw_bytes(), kDim * 4);
}

TEST_P(CodecContractTest, RoundTripIsWithinTheCodecsBound) {
  for (const int64_t dim : {int64_t{1}, int64_t{8}, kDim, int64_t{3000}}) {
    const std::unique_ptr<Codec> codec = Make(dim);
    ASSERT_NE(codec, nullptr);
    const std::vector<float> values = RandomValues(dim, 11);
    double norm = 0;
    for (const float value : values) {
      norm += double{value} * value;
    }
    norm = std::sqrt(norm);

    std::vector<uint8_t> bytes;
    ASSERT_TRUE(codec->Encode(values, &bytes).ok());
    std::vector<float> decoded(values.size(), 42.0F);
    const Status status = codec->Decode(bytes, decoded);

    ASSERT_TRUE(status.ok()) << "dim " << dim << ": " << status.ToString();
    for (size_t i = 0; i < values.size(); ++i) {
      const double bound = GetParam().absolute * norm * (1 + 1e-6) +
                           GetParam().relative * std::fabs(values[i]) +
                           GetParam().tiny;
      ASSERT_LE(std::fabs(double{decoded[i]} - values[i]), bound)
          << "dim " << dim << " coordinate " << i;
    }
  }
}

TEST_P(CodecContractTest, EqualOptionsGiveEqualBytes) {
  const std::unique_ptr<Codec> first = Make();
  const std::unique_ptr<Codec> second = Make();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  for (uint32_t call = 0; call < 3; ++call) {
    EXPECT_EQ(ValidPayload(first.get(), call), ValidPayload(second.get(), call))
        << "call " << call;
  }
}

TEST_P(CodecContractTest, EncodeOfWrongSizeIsInvalidArgument) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  std::vector<uint8_t> bytes;

  const Status status =
      codec->Encode(std::vector<float>(kDim - 1, 1.0F), &bytes);

  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find(std::to_string(kDim - 1)), std::string::npos)
      << status.ToString();
}

TEST_P(CodecContractTest, DecodeIntoWrongSizeOutputIsRejected) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<uint8_t> bytes = ValidPayload(codec.get());
  std::vector<float> out(kDim + 1);

  EXPECT_FALSE(codec->Decode(bytes, out).ok());
}

TEST_P(CodecContractTest, DecodeRejectsEveryTruncation) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<uint8_t> bytes = ValidPayload(codec.get());
  std::vector<float> out(kDim);

  for (size_t size = 0; size < bytes.size(); ++size) {
    const Status status = codec->Decode(std::span(bytes).first(size), out);

    ASSERT_EQ(status.code(), Status::Code::kDataLoss) << "size " << size;
    EXPECT_NE(status.message().find(std::to_string(size) + " bytes"),
              std::string::npos)
        << status.ToString();
  }
}

TEST_P(CodecContractTest, DecodeRejectsOversizedPayload) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  std::vector<float> out(kDim);

  for (const size_t extra : {size_t{1}, size_t{8}, size_t{1000}}) {
    std::vector<uint8_t> bytes = ValidPayload(codec.get());
    bytes.resize(bytes.size() + extra, 0);
    const Status status = codec->Decode(bytes, out);

    ASSERT_EQ(status.code(), Status::Code::kDataLoss) << "extra " << extra;
    EXPECT_NE(status.message().find(std::to_string(bytes.size()) + " bytes"),
              std::string::npos)
        << status.ToString();
  }
}

// The codecs with a header (magic byte and dimension); the others have only
// their size to check.
class HeaderContractTest : public CodecContractTest {};

TEST_P(HeaderContractTest, DecodeRejectsCorruptedHeader) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  std::vector<float> out(kDim);

  std::vector<uint8_t> bad_magic = ValidPayload(codec.get());
  bad_magic[0] ^= 0x20;
  const Status magic_status = codec->Decode(bad_magic, out);
  EXPECT_EQ(magic_status.code(), Status::Code::kDataLoss);
  EXPECT_NE(magic_status.message().find("magic"), std::string::npos)
      << magic_status.ToString();

  // Every header puts a u64 dimension somewhere in its first 10 bytes; a
  // high byte of it set makes the dimension absurd.
  std::vector<uint8_t> bad_dim = ValidPayload(codec.get());
  const size_t dim_offset =
      GetParam().name == "topk" || GetParam().name == "global-topk" ? 1 : 2;
  bad_dim[dim_offset + 6] = 0x40;
  const Status dim_status = codec->Decode(bad_dim, out);
  EXPECT_EQ(dim_status.code(), Status::Code::kDataLoss);
  EXPECT_NE(dim_status.message().find("dimension"), std::string::npos)
      << dim_status.ToString();
}

TEST_P(CodecContractTest, DecodeRejectsPayloadOfAnotherDimension) {
  const std::unique_ptr<Codec> small = Make(kDim - 5);
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(small, nullptr);
  ASSERT_NE(codec, nullptr);
  const std::vector<uint8_t> bytes = ValidPayload(small.get());
  std::vector<float> out(kDim);

  const Status status = codec->Decode(bytes, out);

  EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
}

TEST_P(CodecContractTest, DecodesFromMisalignedBuffer) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<uint8_t> bytes = ValidPayload(codec.get());
  std::vector<float> aligned(kDim);
  ASSERT_TRUE(codec->Decode(bytes, aligned).ok());

  for (size_t shift = 1; shift < 8; ++shift) {
    std::vector<uint64_t> storage(bytes.size() / 8 + 2);
    auto* base = reinterpret_cast<uint8_t*>(storage.data()) + shift;
    std::memcpy(base, bytes.data(), bytes.size());
    std::vector<float> decoded(kDim);
    const Status status =
        codec->Decode(std::span<const uint8_t>(base, bytes.size()), decoded);

    ASSERT_TRUE(status.ok()) << status.ToString();
    for (size_t i = 0; i < decoded.size(); ++i) {
      EXPECT_EQ(Bits(decoded[i]), Bits(aligned[i])) << "shift " << shift;
    }
  }
}

// 2000 seeded mutations of a valid payload: each decode returns OK or
// DataLoss and never reads or writes out of bounds (run under ASan to see
// the latter).
TEST_P(CodecContractTest, SurvivesRandomMutations) {
  const std::unique_ptr<Codec> codec = Make();
  ASSERT_NE(codec, nullptr);
  const std::vector<uint8_t> valid = ValidPayload(codec.get());
  std::mt19937_64 rng(20240611);
  const auto below = [&rng](size_t n) {
    return static_cast<size_t>(rng() % std::max<size_t>(n, 1));
  };
  int rejected = 0;

  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes = valid;
    const int mutations = 1 + static_cast<int>(below(3));
    for (int m = 0; m < mutations; ++m) {
      switch (below(6)) {
        case 0:  // flip one bit
          bytes[below(bytes.size())] ^= static_cast<uint8_t>(1U << below(8));
          break;
        case 1:  // replace one byte
          bytes[below(bytes.size())] = static_cast<uint8_t>(rng());
          break;
        case 2:  // truncate
          bytes.resize(below(bytes.size() + 1));
          break;
        case 3:  // append garbage
          for (size_t n = 1 + below(16); n > 0; --n) {
            bytes.push_back(static_cast<uint8_t>(rng()));
          }
          break;
        case 4: {  // an extreme 32-bit word anywhere
          const uint32_t extremes[] = {0xffffffffU, 0x80000000U, 0x7fc00000U,
                                       0x7f800000U, 0xff800000U, 0U,
                                       36U,         37U};
          if (bytes.size() >= 4) {
            const uint32_t word = extremes[below(std::size(extremes))];
            std::memcpy(bytes.data() + below(bytes.size() - 3), &word, 4);
          }
          break;
        }
        default:  // copy 8 bytes over other 8 (repeats a topk entry)
          if (bytes.size() >= 16) {
            const size_t from = below(bytes.size() - 7);
            const size_t to = below(bytes.size() - 7);
            std::memmove(bytes.data() + to, bytes.data() + from, 8);
          }
          break;
      }
      if (bytes.empty()) break;
    }
    // Exact-size storage so ASan catches a read past the end.
    const auto held = std::make_unique<uint8_t[]>(bytes.size() + 1);
    std::copy(bytes.begin(), bytes.end(), held.get());
    std::vector<float> out(kDim);
    const Status status =
        codec->Decode(std::span<const uint8_t>(held.get(), bytes.size()), out);

    if (!status.ok()) {
      ASSERT_EQ(status.code(), Status::Code::kDataLoss)
          << "trial " << trial << ": " << status.ToString();
      ASSERT_FALSE(status.message().empty());
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

std::string Label(const ::testing::TestParamInfo<CodecCase>& param) {
  return param.param.label;
}

std::vector<CodecCase> HeaderCodecCases() {
  std::vector<CodecCase> cases = AllCodecCases();
  std::erase_if(cases, [](const CodecCase& c) { return !c.has_header; });
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecContractTest,
                         ::testing::ValuesIn(AllCodecCases()), Label);
INSTANTIATE_TEST_SUITE_P(HeaderCodecs, HeaderContractTest,
                         ::testing::ValuesIn(HeaderCodecCases()), Label);

}  // namespace
}  // namespace anchorage::codec
