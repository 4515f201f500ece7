// What a push carries: the model through a lossless codec, the
// pseudo-gradient base − x through a lossy one, rebuilt by DecodePush.
#include "common/algo/push_codec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::algo {
namespace {

constexpr int64_t kDim = 64;

std::vector<float> Ramp(float offset) {
  std::vector<float> v(kDim);
  for (int64_t i = 0; i < kDim; ++i) {
    v[i] = offset + 0.01F * static_cast<float>(i);
  }
  return v;
}

TEST(PushCodecTest, LosslessCodecSendsTheModelBitForBit) {
  PushEncoder encoder(Algorithm::kLocalSgd,
                      codec::MakeCodec("dense", kDim).value());
  EXPECT_FALSE(encoder.relative());
  const std::vector<float> model = Ramp(0.3F);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(encoder.Encode({}, model, &bytes).ok());
  std::vector<float> decoded(kDim);
  ASSERT_TRUE(
      DecodePush<float>(encoder.codec(), false, {}, bytes, decoded).ok());
  EXPECT_EQ(decoded, model);
}

TEST(PushCodecTest, LossyCodecSendsTheChangeFromTheBase) {
  PushEncoder encoder(Algorithm::kLocalSgd,
                      codec::MakeCodec("fp16", kDim).value());
  ASSERT_TRUE(encoder.relative());
  const std::vector<float> base = Ramp(100.0F);
  std::vector<float> model = base;
  for (float& x : model) {
    x -= 0.001F;
  }
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(encoder.Encode(base, model, &bytes).ok());
  std::vector<float> decoded(kDim);
  ASSERT_TRUE(
      DecodePush<float>(encoder.codec(), true, base, bytes, decoded).ok());
  // fp16 of the model itself would be off by up to 0.03 at 100; of the
  // change, by a few 1e-7.
  for (int64_t i = 0; i < kDim; ++i) {
    EXPECT_NEAR(decoded[i], model[i], 2e-5) << i;
  }
}

TEST(PushCodecTest, GradientsAreNeverRelative) {
  const PushEncoder encoder(Algorithm::kMinibatchSgd,
                            codec::MakeCodec("qsgd", kDim).value());
  EXPECT_FALSE(encoder.relative());
}

TEST(PushCodecTest, AContributionTheCodecRefusesSaysTrainingDiverged) {
  PushEncoder encoder(Algorithm::kLocalSgd,
                      codec::MakeCodec("qsgd", kDim).value());
  const std::vector<float> base = Ramp(0.0F);
  std::vector<float> model = base;
  model[5] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> bytes;
  const Status status = encoder.Encode(base, model, &bytes);
  EXPECT_EQ(status.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(status.message().find("training diverged"), std::string::npos)
      << status.message();

  // A contribution of the wrong size is a caller's error, not divergence.
  const std::vector<float> short_model(kDim - 1);
  EXPECT_EQ(encoder.Encode(base, short_model, &bytes).code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace anchorage::algo
