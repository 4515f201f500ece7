// The exact global top-k control of Sketched SGD: the worker's momentum and
// error accumulation, the dense message and its checks, and the server's
// exact sum and top-k.
#include "common/codec/global_topk_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/bytes.h"
#include "common/codec/codec.h"
#include "tests/common/codec/gaussian.h"
#include "tests/testing/expect_status.h"

namespace anchorage::codec {
namespace {

using testing::ExpectError;

constexpr int64_t kDim = 1000;

std::vector<float> Copy(std::span<const float> values) {
  return {values.begin(), values.end()};
}

// A message as the layout in global_topk_codec.h describes it.
std::vector<uint8_t> Message(std::span<const float> v, uint8_t magic = 0x47) {
  std::vector<uint8_t> bytes(9 + v.size_bytes());
  bytes[0] = magic;
  const uint64_t dim = v.size();
  std::memcpy(bytes.data() + 1, &dim, sizeof(dim));
  std::memcpy(bytes.data() + 9, v.data(), v.size_bytes());
  return bytes;
}

// The k coordinates of `sum` (rounded to float) with the largest
// magnitudes, ties to the lower index, in increasing order: by sorting.
std::vector<uint32_t> BruteForceTopK(const std::vector<double>& sum, size_t k) {
  std::vector<uint32_t> order(sum.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::fabs(static_cast<float>(sum[a])) >
           std::fabs(static_cast<float>(sum[b]));
  });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

TEST(GlobalTopKCodecTest, ValidateParamsNamesTheParameter) {
  EXPECT_TRUE(GlobalTopKCodec::ValidateParams(kDim, 10, 0.9).ok());
  ExpectError(GlobalTopKCodec::ValidateParams(0, 1, 0),
              Status::Code::kInvalidArgument,
              "global-topk dimension must be in [1, 2^32), got 0");
  ExpectError(GlobalTopKCodec::ValidateParams(kDim, 0, 0),
              Status::Code::kInvalidArgument,
              "global-topk k must be in [1, 1000] (the dimension), got 0");
  ExpectError(GlobalTopKCodec::ValidateParams(kDim, 1001, 0),
              Status::Code::kInvalidArgument, "got 1001");
  ExpectError(GlobalTopKCodec::ValidateParams(kDim, 10, 1.0),
              Status::Code::kInvalidArgument,
              "global-topk momentum must be in [0, 1), got 1");
  ExpectError(GlobalTopKCodec::ValidateParams(kDim, 10, std::nan("")),
              Status::Code::kInvalidArgument, "got nan");
}

TEST(GlobalTopKCodecTest, TheRegistryMakesItFromTheSketchOptions) {
  CodecOptions options;
  options.topk_fraction = 0.02;
  options.sketch_momentum = 0.9;
  const auto codec = MakeCodec("global-topk", kDim, options);
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  const auto& global = dynamic_cast<const GlobalTopKCodec&>(**codec);
  EXPECT_EQ(global.k(), 20);
  EXPECT_EQ(global.settings(), "k = 20");
  EXPECT_TRUE(DecidesOnTheRound("global-topk"));

  options.sketch_momentum = 1.0;
  ExpectError(ValidateCodecOptions("global-topk", options),
              Status::Code::kInvalidArgument,
              "codec global-topk: sketch_momentum must be in [0, 1)");
  options.sketch_momentum = 0;
  options.topk_fraction = 0;
  ExpectError(ValidateCodecOptions("global-topk", options),
              Status::Code::kInvalidArgument, "topk_fraction");
}

// u <- rho u + g; v <- v + u, and the message is v as float32 after a
// 9-byte header.
TEST(GlobalTopKCodecTest, EncodeSendsTheAccumulatedMomentumDensely) {
  GlobalTopKCodec codec(kDim, 10, 0.5);
  EXPECT_EQ(codec.name(), "global-topk");
  EXPECT_EQ(codec.dim(), kDim);
  const std::vector<float> g1 = Gaussian(kDim, 1, 1.0F);
  const std::vector<float> g2 = Gaussian(kDim, 2, 1.0F);
  std::vector<uint8_t> bytes = {1, 2, 3};  // replaced, not appended to
  ASSERT_TRUE(codec.Encode(g1, &bytes).ok());
  EXPECT_EQ(bytes, Message(g1));
  EXPECT_EQ(bytes.size(), GlobalTopKCodec::MessageBytes(kDim));
  ASSERT_TRUE(codec.Encode(g2, &bytes).ok());
  std::vector<float> v(kDim);
  for (size_t i = 0; i < v.size(); ++i) {
    // u2 = 0.5 g1 + g2, v2 = g1 + u2.
    ASSERT_NEAR(codec.momentum()[i], 0.5F * g1[i] + g2[i], 1e-6);
    ASSERT_NEAR(codec.accumulated()[i], 1.5F * g1[i] + g2[i], 1e-5);
    v[i] = codec.accumulated()[i];
  }
  EXPECT_EQ(bytes, Message(v));
}

TEST(GlobalTopKCodecTest, EncodeRejectsBadInputAndKeepsItsState) {
  GlobalTopKCodec codec(kDim, 10, 0.9);
  std::vector<uint8_t> bytes;
  std::vector<float> huge(kDim, 0.0F);
  huge[5] = std::numeric_limits<float>::max();
  ASSERT_TRUE(codec.Encode(huge, &bytes).ok());
  const std::vector<float> u = Copy(codec.momentum());
  const std::vector<float> v = Copy(codec.accumulated());
  const auto expect_unchanged = [&] {
    EXPECT_EQ(Copy(codec.momentum()), u);
    EXPECT_EQ(Copy(codec.accumulated()), v);
  };

  ExpectError(codec.Encode(std::vector<float>(kDim - 1), &bytes),
              Status::Code::kInvalidArgument,
              "global-topk codec: input has 999 floats, expected 1000");
  expect_unchanged();
  std::vector<float> bad = Gaussian(kDim, 4, 1.0F);
  bad[17] = std::numeric_limits<float>::quiet_NaN();
  ExpectError(codec.Encode(bad, &bytes), Status::Code::kInvalidArgument,
              "global-topk codec: value at coordinate 17 is nan, not finite");
  expect_unchanged();
  // u = 0.9 max + max overflows.
  ExpectError(codec.Encode(huge, &bytes), Status::Code::kInvalidArgument,
              "global-topk codec: momentum or accumulated value at "
              "coordinate 5 overflows float32");
  expect_unchanged();
}

TEST(GlobalTopKCodecTest, DecodeWritesTheTopKOfTheMessage) {
  GlobalTopKCodec codec(kDim, 3, 0.0);
  std::vector<float> v(kDim, 0.5F);
  v[7] = -4.0F;
  v[300] = 3.0F;
  v[900] = 2.0F;
  v[901] = -2.0F;  // ties with 900, which wins as the lower index
  std::vector<float> out(kDim, 42.0F);
  ASSERT_TRUE(codec.Decode(Message(v), out).ok());
  std::vector<float> expected(kDim, 0.0F);
  expected[7] = -4.0F;
  expected[300] = 3.0F;
  expected[900] = 2.0F;
  EXPECT_EQ(out, expected);
}

// Every malformed message is DataLoss naming what is wrong, whether the
// codec decodes it or the server's round adds it; the round is unchanged.
TEST(GlobalTopKCodecTest, MalformedMessagesAreRefusedByName) {
  GlobalTopKCodec codec(kDim, 10, 0.0);
  GlobalTopKRound round(kDim, 10);
  const std::vector<float> v = Gaussian(kDim, 5, 1.0F);
  ASSERT_TRUE(round.AddMessage(Message(v)).ok());
  const std::vector<double> sum(round.sum().begin(), round.sum().end());

  std::vector<uint8_t> wrong_dim = Message(v);
  wrong_dim[1] = 0xe9;  // 1001
  wrong_dim[2] = 0x03;
  std::vector<uint8_t> huge_dim = Message(v);
  huge_dim[8] = 0x40;
  std::vector<float> with_nan = v;
  with_nan[12] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> with_inf = v;
  with_inf[13] = -std::numeric_limits<float>::infinity();
  std::vector<uint8_t> long_message = Message(v);
  long_message.push_back(0);
  std::vector<uint8_t> short_message = Message(v);
  short_message.pop_back();
  const struct {
    std::vector<uint8_t> bytes;
    std::string fragment;
  } cases[] = {
      {{}, "global-topk payload has 0 bytes, shorter than the 9-byte header"},
      {{0x47, 1, 2}, "has 3 bytes, shorter than the 9-byte header"},
      {Message(v, 0x53), "magic byte 83, expected 71"},
      {wrong_dim, "header has dimension 1001, expected 1000"},
      {huge_dim, "dimension 4611686018427388904, expected 1000"},
      {short_message, "has 4008 bytes, expected 4009 (truncated"},
      {long_message, "has 4010 bytes, expected 4009 (oversized"},
      {Message(with_nan), "value at coordinate 12 is nan, not finite"},
      {Message(with_inf), "value at coordinate 13 is -inf, not finite"},
  };
  std::vector<float> out(kDim);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    ExpectError(codec.Decode(c.bytes, out), Status::Code::kDataLoss,
                c.fragment);
    ExpectError(round.AddMessage(c.bytes), Status::Code::kDataLoss, c.fragment);
    EXPECT_TRUE(std::equal(sum.begin(), sum.end(), round.sum().begin()));
  }
  // The norm of a well-formed message, infinite when a value is not.
  double squares = 0;
  for (const float x : v) {
    squares += double{x} * x;
  }
  const StatusOr<double> norm = round.MessageNorm(Message(v));
  ASSERT_TRUE(norm.ok());
  EXPECT_NEAR(*norm, std::sqrt(squares), 1e-9 * std::sqrt(squares));
  EXPECT_EQ(*round.MessageNorm(Message(with_nan)),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(*round.MessageNorm(Message(with_inf)),
            std::numeric_limits<double>::infinity());
  ExpectError(round.MessageNorm(wrong_dim).status(), Status::Code::kDataLoss,
              "dimension 1001");
  ExpectError(round.MessageNorm({}).status(), Status::Code::kDataLoss,
              "shorter than the 9-byte header");
  // There is no second round to answer.
  EXPECT_FALSE(round.asks_values());
  EXPECT_TRUE(round.tells_applied());
  ExpectError(round.AddValues(std::vector<uint8_t>(40)),
              Status::Code::kFailedPrecondition, "asks no exact values");
  std::vector<float> too_long(kDim + 1);
  ExpectError(codec.Decode(Message(v), too_long),
              Status::Code::kInvalidArgument, "output has 1001 floats");
}

// The applied set is the top k of the exact sum of the workers' v (with
// the workers' momentum, over several rounds), checked against a
// brute-force sum and sort; every worker then zeroes u and v there.
TEST(GlobalTopKRoundTest, TheAppliedSetIsTheTopKOfTheExactSum) {
  constexpr int kWorkers = 3;
  constexpr int64_t kK = 25;
  std::vector<GlobalTopKCodec> workers(kWorkers,
                                       GlobalTopKCodec(kDim, kK, 0.9));
  GlobalTopKRound round(kDim, kK);
  for (int step = 0; step < 6; ++step) {
    round.Begin();
    std::vector<double> sum(kDim, 0.0);
    for (int w = 0; w < kWorkers; ++w) {
      const std::vector<float> g = Gaussian(kDim, 10 * step + w, 1.0F);
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(workers[w].Encode(g, &bytes).ok());
      ASSERT_TRUE(round.AddMessage(bytes).ok());
      for (int64_t i = 0; i < kDim; ++i) {
        sum[i] += workers[w].accumulated()[i];
      }
    }
    std::vector<uint32_t> indices;
    std::vector<float> sums;
    round.Finish(RoundScale{}, &indices, &sums);
    const std::vector<uint32_t> expected = BruteForceTopK(sum, kK);
    ASSERT_EQ(indices, expected) << "step " << step;
    for (size_t m = 0; m < indices.size(); ++m) {
      EXPECT_EQ(sums[m], static_cast<float>(sum[indices[m]]));
    }
    for (GlobalTopKCodec& worker : workers) {
      ASSERT_TRUE(worker.Applied(indices).ok());
      for (const uint32_t i : indices) {
        EXPECT_EQ(worker.accumulated()[i], 0.0F);
        EXPECT_EQ(worker.momentum()[i], 0.0F);
      }
    }
  }
}

// Equal magnitudes go to the lower index, whatever their signs, and the
// update carries the signed sums.
TEST(GlobalTopKRoundTest, TiesGoToTheLowerIndex) {
  GlobalTopKRound round(kDim, 3);
  std::vector<float> a(kDim, 0.0F);
  std::vector<float> b(kDim, 0.0F);
  a[900] = 1.0F;  // sums: -2 at 10 (1 - 3), +2 at 40, 500 and 900
  b[900] = 1.0F;
  a[500] = 2.0F;
  a[40] = 3.0F;
  b[40] = -1.0F;
  a[10] = 1.0F;
  b[10] = -3.0F;
  a[7] = 1.0F;  // sum 1.5, below the ties
  b[7] = 0.5F;
  ASSERT_TRUE(round.AddMessage(Message(a)).ok());
  ASSERT_TRUE(round.AddMessage(Message(b)).ok());
  std::vector<uint32_t> indices;
  std::vector<float> sums;
  round.Finish(RoundScale{.contributors = 2, .learning_rate = 0.1}, &indices,
               &sums);
  EXPECT_EQ(indices, (std::vector<uint32_t>{10, 40, 500}));
  EXPECT_EQ(sums, (std::vector<float>{-2.0F, 2.0F, 2.0F}));
  // Begin starts the next round from nothing.
  round.Begin();
  EXPECT_TRUE(std::all_of(round.sum().begin(), round.sum().end(),
                          [](double s) { return s == 0.0; }));
}

// With rho = 0, what the rounds applied plus what the workers still hold
// is what they were given: error feedback loses nothing.
TEST(GlobalTopKRoundTest, ErrorFeedbackConservesTheInputs) {
  constexpr int kWorkers = 4;
  constexpr int64_t kK = 10;
  std::vector<GlobalTopKCodec> workers(kWorkers,
                                       GlobalTopKCodec(kDim, kK, 0.0));
  GlobalTopKRound round(kDim, kK);
  std::vector<double> inputs(kDim, 0.0);
  std::vector<double> applied(kDim, 0.0);
  for (int step = 0; step < 12; ++step) {
    round.Begin();
    for (int w = 0; w < kWorkers; ++w) {
      std::vector<float> g = Gaussian(kDim, 100 * step + w, 1.0F);
      for (float& value : g) {
        value = value * value * value;  // heavy-tailed
      }
      for (int64_t i = 0; i < kDim; ++i) {
        inputs[i] += g[i];
      }
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(workers[w].Encode(g, &bytes).ok());
      ASSERT_TRUE(round.AddMessage(bytes).ok());
    }
    std::vector<uint32_t> indices;
    std::vector<float> sums;
    round.Finish(RoundScale{}, &indices, &sums);
    ASSERT_EQ(indices.size(), static_cast<size_t>(kK));
    for (size_t m = 0; m < indices.size(); ++m) {
      applied[indices[m]] += sums[m];
    }
    for (GlobalTopKCodec& worker : workers) {
      ASSERT_TRUE(worker.Applied(indices).ok());
    }
  }
  for (int64_t i = 0; i < kDim; ++i) {
    double total = applied[i];
    for (const GlobalTopKCodec& worker : workers) {
      total += worker.accumulated()[i];
    }
    ASSERT_NEAR(total, inputs[i], 1e-4 * std::max(1.0, std::fabs(inputs[i])))
        << "coordinate " << i;
  }
}

TEST(GlobalTopKCodecTest, ExactValuesAndAppliedRejectOutOfRangeIndices) {
  GlobalTopKCodec codec(kDim, 10, 0.0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(Gaussian(kDim, 6, 1.0F), &bytes).ok());
  const std::vector<float> v = Copy(codec.accumulated());
  std::vector<float> out(2, 7.0F);
  ExpectError(codec.ExactValues(std::vector<uint32_t>{3, 1000}, out),
              Status::Code::kDataLoss,
              "global-topk codec: index 1000 (entry 1) is out of range for "
              "dimension 1000");
  EXPECT_EQ(out, std::vector<float>(2, 7.0F));
  ASSERT_TRUE(codec.ExactValues(std::vector<uint32_t>{3, 999}, out).ok());
  EXPECT_EQ(out, (std::vector<float>{v[3], v[999]}));
  ExpectError(codec.Applied(std::vector<uint32_t>{4, 5000}),
              Status::Code::kDataLoss, "index 5000 (entry 1)");
  EXPECT_EQ(Copy(codec.accumulated()), v);  // nothing zeroed
}

// Save and Load in the middle of a round carry the sum: a restored round
// finishes exactly as the original; a state of another dimension is
// refused.
TEST(GlobalTopKRoundTest, SavedStateFinishesTheRoundIdentically) {
  GlobalTopKRound original(kDim, 20);
  for (int w = 0; w < 3; ++w) {
    ASSERT_TRUE(original.AddMessage(Message(Gaussian(kDim, 80 + w))).ok());
  }
  ByteWriter saved;
  original.Save(&saved);
  GlobalTopKRound restored(kDim, 20);
  ByteReader reader(saved.bytes());
  ASSERT_TRUE(restored.Load(&reader).ok()) << reader.status().ToString();
  ASSERT_TRUE(reader.Finish().ok());
  std::vector<uint32_t> indices[2];
  std::vector<float> sums[2];
  original.Finish(RoundScale{}, &indices[0], &sums[0]);
  restored.Finish(RoundScale{}, &indices[1], &sums[1]);
  EXPECT_EQ(indices[0], indices[1]);
  EXPECT_EQ(sums[0], sums[1]);

  GlobalTopKRound other(kDim + 1, 20);
  ByteReader again(saved.bytes());
  EXPECT_FALSE(other.Load(&again).ok());
}

}  // namespace
}  // namespace anchorage::codec
