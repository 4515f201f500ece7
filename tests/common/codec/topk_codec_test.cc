#include "common/codec/topk_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/common/codec/gaussian.h"

namespace anchorage::codec {
namespace {

// Heavy-tailed: a Gaussian cubed, so a few coordinates dominate.
std::vector<float> HeavyTailed(size_t dim, uint32_t seed) {
  std::vector<float> values = Gaussian(dim, seed);
  for (float& value : values) {
    value = value * value * value;
  }
  return values;
}

double SquaredNorm(const std::vector<float>& values) {
  double sum = 0;
  for (const float value : values) {
    sum += double{value} * value;
  }
  return sum;
}

// Builds a topk message from (index, value) entries.
std::vector<uint8_t> Message(
    uint64_t dim, uint32_t k,
    const std::vector<std::pair<uint32_t, float>>& entries) {
  std::vector<uint8_t> bytes(TopKCodec::kHeaderBytes);
  bytes[0] = TopKCodec::kMagic;
  std::memcpy(bytes.data() + 1, &dim, 8);
  std::memcpy(bytes.data() + 9, &k, 4);
  for (const auto& [index, value] : entries) {
    uint8_t entry[8];
    std::memcpy(entry, &index, 4);
    std::memcpy(entry + 4, &value, 4);
    bytes.insert(bytes.end(), entry, entry + 8);
  }
  return bytes;
}

void ExpectDataLoss(const Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << fragment << "' not in " << status.ToString();
}

TEST(TopKCodecTest, KIsTheRoundedFractionOfTheDimensionAtLeastOne) {
  EXPECT_EQ(TopKCodec(1000, 0.01).k(), 10);
  EXPECT_EQ(TopKCodec(10, 0.01).k(), 1);
  EXPECT_EQ(TopKCodec(150, 0.01).k(), 2);  // round(1.5)
  EXPECT_EQ(TopKCodec(7, 1.0).k(), 7);
  EXPECT_EQ(TopKCodec(1000000, 0.01).k(), 10000);
}

// ||x - top_k(x)||^2 <= (1 - k/d) ||x||^2, and the sent set is the k
// largest magnitudes.
TEST(TopKCodecTest, FirstEncodeIsAContraction) {
  for (const size_t dim : {10, 100, 1000, 5000}) {
    for (const double fraction : {0.001, 0.01, 0.1, 0.5, 1.0}) {
      for (const bool heavy : {false, true}) {
        const auto seed = static_cast<uint32_t>(dim + (heavy ? 7 : 0));
        const std::vector<float> x =
            heavy ? HeavyTailed(dim, seed) : Gaussian(dim, seed);
        TopKCodec codec(static_cast<int64_t>(dim), fraction);
        std::vector<uint8_t> bytes;
        ASSERT_TRUE(codec.Encode(x, &bytes).ok());
        std::vector<float> sent(dim, 7.0F);
        ASSERT_TRUE(codec.Decode(bytes, sent).ok());

        std::vector<float> rest(dim);
        float smallest_sent = std::numeric_limits<float>::infinity();
        float largest_kept = 0;
        int64_t nonzero = 0;
        for (size_t i = 0; i < dim; ++i) {
          rest[i] = x[i] - sent[i];
          if (sent[i] != 0) {
            ++nonzero;
            ASSERT_EQ(sent[i], x[i]);
            smallest_sent = std::min(smallest_sent, std::fabs(sent[i]));
          } else {
            largest_kept = std::max(largest_kept, std::fabs(x[i]));
          }
        }
        const double k = static_cast<double>(codec.k());
        EXPECT_EQ(nonzero, codec.k()) << "dim " << dim;
        EXPECT_GE(smallest_sent, largest_kept) << "dim " << dim;
        EXPECT_LE(SquaredNorm(rest), (1 - k / static_cast<double>(dim)) *
                                         SquaredNorm(x) * (1 + 1e-9))
            << "dim " << dim << " fraction " << fraction;
      }
    }
  }
}

// Top-k with error feedback computed the slow, obvious way: a full sort by
// (|v_i| descending, i ascending).
class ReferenceTopK {
 public:
  ReferenceTopK(size_t dim, size_t k) : residual_(dim, 0.0F), k_(k) {}

  std::vector<uint8_t> Encode(const std::vector<float>& g) {
    const size_t dim = g.size();
    std::vector<float> v(dim);
    for (size_t i = 0; i < dim; ++i) {
      v[i] = g[i] + residual_[i];
    }
    std::vector<uint32_t> order(dim);
    for (size_t i = 0; i < dim; ++i) {
      order[i] = static_cast<uint32_t>(i);
    }
    std::sort(order.begin(), order.end(), [&v](uint32_t a, uint32_t b) {
      const float ma = std::fabs(v[a]);
      const float mb = std::fabs(v[b]);
      return ma != mb ? ma > mb : a < b;
    });
    order.resize(k_);
    std::sort(order.begin(), order.end());
    std::vector<std::pair<uint32_t, float>> entries;
    for (const uint32_t i : order) {
      entries.emplace_back(i, v[i]);
      v[i] = 0.0F;
    }
    residual_ = v;
    return Message(dim, static_cast<uint32_t>(k_), entries);
  }

  const std::vector<float>& residual() const { return residual_; }

 private:
  std::vector<float> residual_;
  size_t k_;
};

// Large d and small k take the codec's sampled-threshold path; these inputs
// cover a typical gradient, heavy tails, massive ties, mostly zeros (the
// guess is 0) and large values on exactly the sampled coordinates (the guess
// is too high and the codec falls back to a full selection).
TEST(TopKCodecTest, LargeVectorsMatchAFullSortOverSeveralSteps) {
  constexpr size_t kDim = 1 << 16;
  constexpr size_t kStride = kDim / 16384;
  const auto inputs = [](int kind, uint32_t step) {
    std::vector<float> g =
        kind == 1 ? HeavyTailed(kDim, step + 1) : Gaussian(kDim, step + 1);
    for (size_t i = 0; i < kDim; ++i) {
      if (kind == 2) g[i] = std::round(g[i] * 2) / 2;  // few distinct values
      if (kind == 3 && i % 97 != 0) g[i] = 0.0F;
      if (kind == 4) {
        g[i] = i % kStride == 0 ? 1000.0F + static_cast<float>(i) : g[i];
      }
    }
    return g;
  };
  for (int kind = 0; kind < 5; ++kind) {
    for (const double fraction : {0.001, 0.01}) {
      TopKCodec codec(kDim, fraction);
      ReferenceTopK reference(kDim, static_cast<size_t>(codec.k()));
      std::vector<uint8_t> bytes;
      for (uint32_t step = 0; step < 3; ++step) {
        const std::vector<float> g = inputs(kind, step);
        ASSERT_TRUE(codec.Encode(g, &bytes).ok());

        ASSERT_EQ(bytes, reference.Encode(g))
            << "kind " << kind << " fraction " << fraction << " step " << step;
        ASSERT_TRUE(std::equal(codec.residual().begin(), codec.residual().end(),
                               reference.residual().begin()));
      }
    }
  }
}

TEST(TopKCodecTest, ErrorFeedbackConservesTheSumOfInputs) {
  constexpr size_t kDim = 1000;
  constexpr int kSteps = 50;
  TopKCodec codec(kDim, 0.05);
  std::vector<double> inputs(kDim, 0.0);
  std::vector<double> outputs(kDim, 0.0);
  std::vector<uint8_t> bytes;
  std::vector<float> decoded(kDim);

  for (int t = 0; t < kSteps; ++t) {
    const std::vector<float> g = Gaussian(kDim, static_cast<uint32_t>(t + 100));
    ASSERT_TRUE(codec.Encode(g, &bytes).ok());
    ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
    for (size_t i = 0; i < kDim; ++i) {
      inputs[i] += g[i];
      outputs[i] += decoded[i];
    }
  }

  const std::span<const float> residual = codec.residual();
  ASSERT_EQ(residual.size(), kDim);
  double difference = 0;
  double total = 0;
  for (size_t i = 0; i < kDim; ++i) {
    const double gap = outputs[i] + residual[i] - inputs[i];
    difference += gap * gap;
    total += inputs[i] * inputs[i];
  }
  EXPECT_LE(std::sqrt(difference), 1e-4 * std::sqrt(total));
  EXPECT_GT(SquaredNorm(std::vector<float>(residual.begin(), residual.end())),
            0.0);
}

TEST(TopKCodecTest, ResidualIsExactlyWhatWasNotSent) {
  const std::vector<float> x = Gaussian(64, 2);
  TopKCodec codec(64, 0.25);
  EXPECT_EQ(SquaredNorm(std::vector<float>(codec.residual().begin(),
                                           codec.residual().end())),
            0.0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(x, &bytes).ok());
  std::vector<float> sent(64);
  ASSERT_TRUE(codec.Decode(bytes, sent).ok());

  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(codec.residual()[i], sent[i] != 0 ? 0.0F : x[i]) << i;
  }
}

TEST(TopKCodecTest, SmallCoordinatesAreSentOnceTheirResidualGrows) {
  TopKCodec codec(4, 0.25);  // k = 1
  const std::vector<float> g = {1.0F, 0.125F, 0.0F, 0.0F};
  std::vector<uint8_t> bytes;
  std::vector<float> decoded(4);
  int first_sent = -1;

  for (int t = 1; t <= 20 && first_sent < 0; ++t) {
    ASSERT_TRUE(codec.Encode(g, &bytes).ok());
    ASSERT_TRUE(codec.Decode(bytes, decoded).ok());
    if (decoded[1] != 0) first_sent = t;
  }

  // Coordinate 0 is sent and reset each step; coordinate 1 gathers 0.125
  // per step (exactly) and first beats 1.0 at t = 9 (at t = 8 they tie and
  // the lower index wins).
  EXPECT_EQ(first_sent, 9);
}

TEST(TopKCodecTest, WireLayoutIsHeaderThenSortedEntries) {
  TopKCodec codec(5, 0.4);  // k = 2
  const std::vector<float> x = {0.5F, -3.0F, 1.0F, 0.0F, 2.0F};
  std::vector<uint8_t> bytes;

  ASSERT_TRUE(codec.Encode(x, &bytes).ok());

  EXPECT_EQ(bytes, Message(5, 2, {{1, -3.0F}, {4, 2.0F}}));
}

TEST(TopKCodecTest, TiesGoToTheLowerIndex) {
  TopKCodec codec(6, 0.5);  // k = 3
  const std::vector<float> x = {1.0F, -1.0F, 0.5F, 1.0F, -1.0F, 1.0F};
  std::vector<uint8_t> bytes;

  ASSERT_TRUE(codec.Encode(x, &bytes).ok());

  EXPECT_EQ(bytes, Message(6, 3, {{0, 1.0F}, {1, -1.0F}, {3, 1.0F}}));
}

TEST(TopKCodecTest, DecodeZeroesUnsentCoordinates) {
  TopKCodec codec(4, 0.25);
  std::vector<float> out(4, 9.0F);

  ASSERT_TRUE(codec.Decode(Message(4, 1, {{2, 1.5F}}), out).ok());

  EXPECT_EQ(out, (std::vector<float>{0.0F, 0.0F, 1.5F, 0.0F}));
}

TEST(TopKCodecTest, DecodeRejectsBadEntries) {
  TopKCodec codec(10, 0.3);
  std::vector<float> out(10);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();

  ExpectDataLoss(codec.Decode(Message(10, 2, {{5, 1.0F}, {3, 1.0F}}), out),
                 "entry 1 has index 3, unsorted");
  ExpectDataLoss(codec.Decode(Message(10, 2, {{5, 1.0F}, {5, 2.0F}}), out),
                 "entry 1 has index 5, a duplicate");
  ExpectDataLoss(codec.Decode(Message(10, 1, {{10, 1.0F}}), out),
                 "index 10, out of range for dimension 10");
  ExpectDataLoss(codec.Decode(Message(10, 1, {{0xffffffffU, 1.0F}}), out),
                 "out of range");
  ExpectDataLoss(codec.Decode(Message(10, 2, {{1, 1.0F}, {2, nan}}), out),
                 "entry 1 (index 2) has value nan");
  ExpectDataLoss(codec.Decode(Message(10, 1, {{1, -inf}}), out), "not finite");
}

TEST(TopKCodecTest, DecodeRejectsBadHeaderAndSizes) {
  TopKCodec codec(10, 0.3);
  std::vector<float> out(10);
  const std::vector<std::pair<uint32_t, float>> two = {{1, 1.0F}, {2, 2.0F}};

  ExpectDataLoss(codec.Decode(Message(10, 11, {}), out),
                 "k = 11, more than the dimension 10");
  ExpectDataLoss(codec.Decode(Message(11, 2, two), out),
                 "dimension 11, expected 10");
  ExpectDataLoss(codec.Decode(Message(10, 3, two), out),
                 "29 bytes, expected 37 (truncated");
  ExpectDataLoss(codec.Decode(Message(10, 1, two), out),
                 "29 bytes, expected 21 (oversized");
  std::vector<uint8_t> bad_magic = Message(10, 2, two);
  bad_magic[0] = 0x51;  // a qsgd message
  ExpectDataLoss(codec.Decode(bad_magic, out), "magic byte 81");
  ExpectDataLoss(codec.Decode(std::vector<uint8_t>(12), out),
                 "12 bytes, shorter than the 13-byte header");
  // k = 0 is well formed: nothing sent.
  EXPECT_TRUE(codec.Decode(Message(10, 0, {}), out).ok());
}

TEST(TopKCodecTest, EncodeRejectsNonFiniteAndKeepsTheResidual) {
  TopKCodec codec(2, 0.5);  // k = 1
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(std::vector<float>{3e38F, 2e38F}, &bytes).ok());
  const std::vector<float> before(codec.residual().begin(),
                                  codec.residual().end());
  ASSERT_EQ(before, (std::vector<float>{0.0F, 2e38F}));

  const Status nan_status = codec.Encode(
      std::vector<float>{1.0F, std::numeric_limits<float>::quiet_NaN()},
      &bytes);
  const Status overflow_status =
      codec.Encode(std::vector<float>{3e38F, 2e38F}, &bytes);

  EXPECT_EQ(nan_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(nan_status.message().find("coordinate 1 is nan"), std::string::npos)
      << nan_status.ToString();
  EXPECT_EQ(overflow_status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(overflow_status.message().find("overflows"), std::string::npos)
      << overflow_status.ToString();
  EXPECT_EQ(
      std::vector<float>(codec.residual().begin(), codec.residual().end()),
      before);
}

// With a momentum rho, the local top-k of Ivkin et al.'s code: u <- rho u
// + g, v = u + r, send the top k of v, r <- v - sent, and u zeroed where
// sent; over the large-vector path (a sampled threshold) and the small one.
TEST(TopKCodecTest, MomentumIsStoppedAtTheSentCoordinates) {
  for (const size_t dim : {size_t{64}, size_t{1} << 16}) {
    constexpr float kRho = 0.9F;
    TopKCodec codec(static_cast<int64_t>(dim), 0.01, kRho);
    const size_t k = static_cast<size_t>(codec.k());
    ReferenceTopK reference(dim, k);
    std::vector<float> u(dim, 0.0F);
    std::vector<uint8_t> bytes;
    for (uint32_t step = 0; step < 4; ++step) {
      const std::vector<float> g = HeavyTailed(dim, step + 7);
      for (size_t i = 0; i < dim; ++i) {
        u[i] = kRho * u[i] + g[i];
      }
      ASSERT_TRUE(codec.Encode(g, &bytes).ok());
      // The plain codec's encode of u, from the same residual.
      ASSERT_EQ(bytes, reference.Encode(u))
          << "dim " << dim << " step " << step;
      ASSERT_TRUE(std::equal(codec.residual().begin(), codec.residual().end(),
                             reference.residual().begin()));
      std::vector<float> sent(dim);
      ASSERT_TRUE(codec.Decode(bytes, sent).ok());
      for (size_t i = 0; i < dim; ++i) {
        if (sent[i] != 0) u[i] = 0.0F;
      }
      ASSERT_EQ(
          std::vector<float>(codec.momentum().begin(), codec.momentum().end()),
          u);
    }
  }
  // rho = 0 keeps no momentum.
  EXPECT_TRUE(TopKCodec(64, 0.1).momentum().empty());
}

TEST(TopKCodecTest, AMomentumOverflowKeepsTheState) {
  TopKCodec codec(2, 0.5, 0.5);  // k = 1
  std::vector<uint8_t> bytes;
  // Coordinate 1 is sent; coordinate 0 stays in u and r.
  ASSERT_TRUE(codec.Encode(std::vector<float>{2e38F, 3e38F}, &bytes).ok());
  const auto state = [&codec] {
    std::vector<float> both(codec.momentum().begin(), codec.momentum().end());
    both.insert(both.end(), codec.residual().begin(), codec.residual().end());
    return both;
  };
  ASSERT_EQ(state(), (std::vector<float>{2e38F, 0.0F, 2e38F, 0.0F}));

  // 0.5 * 2e38 + 3e38 > FLT_MAX.
  const Status overflow = codec.Encode(std::vector<float>{3e38F, 0.0F}, &bytes);
  EXPECT_EQ(overflow.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(overflow.message().find("momentum at coordinate 0 overflows"),
            std::string::npos)
      << overflow.ToString();
  const Status nan = codec.Encode(
      std::vector<float>{0.0F, std::numeric_limits<float>::quiet_NaN()},
      &bytes);
  EXPECT_EQ(nan.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(nan.message().find("value at coordinate 1 is nan"),
            std::string::npos)
      << nan.ToString();
  EXPECT_EQ(state(), (std::vector<float>{2e38F, 0.0F, 2e38F, 0.0F}));
}

}  // namespace
}  // namespace anchorage::codec
