#include "common/codec/sketch_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/seed.h"
#include "common/codec/codec.h"
#include "common/codec/count_sketch.h"
#include "common/codec/sketch_round.h"
#include "tests/common/codec/gaussian.h"
#include "tests/testing/expect_status.h"

namespace anchorage::codec {
namespace {

using testing::ExpectError;

constexpr SketchShape kSmall{
    .rows = 5, .columns = 2000, .dim = 10000, .seed = 1};

// `count` distinct coordinates of [0, dim), in increasing order.
std::vector<uint32_t> RandomCoordinates(int64_t dim, size_t count,
                                        uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> coordinate(
      0, static_cast<uint32_t>(dim - 1));
  std::vector<uint32_t> chosen;
  while (chosen.size() < count) {
    chosen.push_back(coordinate(rng));
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  }
  return chosen;
}

// Values of magnitude uniform in [10, 20] with random signs.
std::vector<float> HeavyValues(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> magnitude(10.0F, 20.0F);
  std::vector<float> values(count);
  for (float& value : values) {
    value = (rng() % 2 == 0 ? 1.0F : -1.0F) * magnitude(rng);
  }
  return values;
}

// The little-endian f32 bytes AddValues takes.
std::vector<uint8_t> FloatBytes(std::span<const float> values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<uint8_t> SketchBytes(const SketchShape& shape,
                                 std::span<const float> values) {
  CountSketch sketch(shape);
  sketch.Insert(values);
  std::vector<uint8_t> bytes;
  sketch.Serialize(&bytes);
  return bytes;
}

std::vector<float> Copy(std::span<const float> values) {
  return {values.begin(), values.end()};
}

TEST(SketchCodecTest, ValidateParamsNamesTheParameter) {
  const auto check = [](const Status& status, const std::string& fragment) {
    ExpectError(status, Status::Code::kInvalidArgument, fragment);
  };
  EXPECT_TRUE(SketchCodec::ValidateParams(kSmall, 10, 4, 0.9).ok());
  EXPECT_TRUE(FetchSgdCodec::ValidateParams(kSmall, 10000).ok());
  SketchShape bad = kSmall;
  bad.rows = 0;
  check(SketchCodec::ValidateParams(bad, 10, 4, 0), "sketch rows");
  check(FetchSgdCodec::ValidateParams(bad, 10), "sketch rows");
  check(SketchCodec::ValidateParams(kSmall, 0, 4, 0),
        "sketch k must be in [1, 10000] (the dimension), got 0");
  check(FetchSgdCodec::ValidateParams(kSmall, 10001), "got 10001");
  check(SketchCodec::ValidateParams(kSmall, 10, 0, 0),
        "sketch candidates factor P must be >= 1, got 0");
  check(SketchCodec::ValidateParams(kSmall, 10, 4, 1.0),
        "sketch momentum must be in [0, 1), got 1");
  check(SketchCodec::ValidateParams(kSmall, 10, 4, -0.1), "got -0.1");
  check(SketchCodec::ValidateParams(kSmall, 10, 4, std::nan("")), "got nan");
}

TEST(SketchCodecTest, EncodeSendsTheSketchOfTheAccumulatedMomentum) {
  SketchCodec codec(kSmall, 10, 4, 0.5);
  EXPECT_EQ(codec.name(), "sketch");
  EXPECT_EQ(codec.dim(), kSmall.dim);
  EXPECT_EQ(codec.k(), 10);
  EXPECT_EQ(codec.candidates_factor(), 4);
  EXPECT_EQ(codec.shape(), kSmall);
  const std::vector<float> g1 = Gaussian(kSmall.dim, 1, 1.0F);
  const std::vector<float> g2 = Gaussian(kSmall.dim, 2, 1.0F);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g1, &bytes).ok());
  EXPECT_EQ(Copy(codec.accumulated()), g1);
  EXPECT_EQ(bytes, SketchBytes(kSmall, g1));
  ASSERT_TRUE(codec.Encode(g2, &bytes).ok());
  // u2 = 0.5 g1 + g2, v2 = g1 + u2.
  for (size_t i = 0; i < g1.size(); ++i) {
    ASSERT_NEAR(codec.momentum()[i], 0.5F * g1[i] + g2[i], 1e-6);
    ASSERT_NEAR(codec.accumulated()[i], 1.5F * g1[i] + g2[i], 1e-5);
  }
  EXPECT_EQ(bytes, SketchBytes(kSmall, codec.accumulated()));
  EXPECT_EQ(bytes.size(), CountSketch::SerializedSize(kSmall));
}

TEST(SketchCodecTest, EncodeRejectsBadInputAndKeepsItsState) {
  SketchCodec codec(kSmall, 10, 4, 0.0);
  std::vector<float> values(static_cast<size_t>(kSmall.dim), 3e38F);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(values, &bytes).ok());
  const std::vector<float> before = Copy(codec.accumulated());

  ExpectError(codec.Encode(std::vector<float>(9999), &bytes),
              Status::Code::kInvalidArgument,
              "sketch codec: input has 9999 floats, expected 10000");
  ExpectError(codec.Encode(values, &bytes), Status::Code::kInvalidArgument,
              "sketch codec: momentum or accumulated value at coordinate 0 "
              "overflows float32");
  std::vector<float> poisoned(values.size());
  poisoned[17] = std::numeric_limits<float>::quiet_NaN();
  ExpectError(codec.Encode(poisoned, &bytes), Status::Code::kInvalidArgument,
              "sketch codec: value at coordinate 17 is nan, not finite");
  EXPECT_EQ(Copy(codec.accumulated()), before);
  EXPECT_EQ(Copy(codec.momentum()), values);
}

// With k planted coordinates and zeros elsewhere, every estimate is exact
// unless three of the five rows collide, so Decode returns the input.
TEST(SketchCodecTest, DecodeWritesTheTopKEstimates) {
  const std::vector<uint32_t> heavy = RandomCoordinates(kSmall.dim, 10, 3);
  const std::vector<float> heavy_values = HeavyValues(10, 4);
  std::vector<float> values(static_cast<size_t>(kSmall.dim));
  for (size_t n = 0; n < heavy.size(); ++n) {
    values[heavy[n]] = heavy_values[n];
  }
  SketchCodec sketch(kSmall, 10, 4, 0.0);
  FetchSgdCodec fetchsgd(kSmall, 10, 0.0);
  for (Codec* codec : std::initializer_list<Codec*>{&sketch, &fetchsgd}) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(codec->Encode(values, &bytes).ok());
    std::vector<float> decoded(values.size(), 7.0F);
    ASSERT_TRUE(codec->Decode(bytes, decoded).ok());
    EXPECT_EQ(decoded, values) << codec->name();
  }
}

TEST(SketchCodecTest, DecodeRefusesOtherSketches) {
  const SketchCodec codec(kSmall, 10, 4, 0.0);
  const FetchSgdCodec fetchsgd(kSmall, 10, 0.0);
  std::vector<float> out(static_cast<size_t>(kSmall.dim));
  SketchShape other = kSmall;
  other.seed = 2;
  const std::vector<float> zeros(out.size());
  std::vector<uint8_t> bytes = SketchBytes(other, zeros);
  ExpectError(codec.Decode(bytes, out), Status::Code::kInvalidArgument,
              "sketch codec: sketch hash seeds differ: 1 vs 2");
  ExpectError(fetchsgd.Decode(bytes, out), Status::Code::kInvalidArgument,
              "fetchsgd codec: sketch hash seeds differ: 1 vs 2");
  other = kSmall;
  other.columns = 1000;
  ExpectError(codec.Decode(SketchBytes(other, zeros), out),
              Status::Code::kInvalidArgument,
              "sketch shapes differ: 5x2000 vs 5x1000");
  bytes = SketchBytes(kSmall, zeros);
  bytes.pop_back();
  ExpectError(codec.Decode(bytes, out), Status::Code::kDataLoss,
              "sketch codec: sketch has 40025 bytes, expected 40026");
  bytes.push_back(0);
  std::vector<float> short_out(10);
  ExpectError(codec.Decode(bytes, short_out), Status::Code::kInvalidArgument,
              "sketch codec: output has 10 floats, expected 10000");
}

TEST(SketchCodecTest, ExactValuesAndAppliedRejectOutOfRangeIndices) {
  SketchCodec codec(kSmall, 10, 4, 0.5);
  const std::vector<float> g = Gaussian(kSmall.dim, 5, 1.0F);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());

  const std::vector<uint32_t> indices = {0, 9999, 42};
  std::vector<float> exact(3, -1.0F);
  ASSERT_TRUE(codec.ExactValues(indices, exact).ok());
  EXPECT_EQ(exact, (std::vector<float>{g[0], g[9999], g[42]}));

  const std::vector<uint32_t> bad = {5, 10000, 3};
  ExpectError(codec.ExactValues(bad, exact), Status::Code::kDataLoss,
              "sketch codec: index 10000 (entry 1) is out of range for "
              "dimension 10000");
  EXPECT_EQ(exact, (std::vector<float>{g[0], g[9999], g[42]}));
  std::vector<float> too_small(2);
  ExpectError(codec.ExactValues(indices, too_small),
              Status::Code::kInvalidArgument, "3 indices but room for 2");
  ExpectError(codec.Applied(bad), Status::Code::kDataLoss, "index 10000");
  EXPECT_EQ(Copy(codec.accumulated()), g);
  EXPECT_EQ(Copy(codec.momentum()), g);

  ASSERT_TRUE(codec.Applied(indices).ok());
  for (size_t i = 0; i < g.size(); ++i) {
    const bool applied = i == 0 || i == 9999 || i == 42;
    ASSERT_EQ(codec.accumulated()[i], applied ? 0.0F : g[i]) << i;
    ASSERT_EQ(codec.momentum()[i], applied ? 0.0F : g[i]) << i;
  }
}

TEST(FetchSgdCodecTest, EncodeSendsTheSketchOfTheInput) {
  FetchSgdCodec codec(kSmall, 10, 0.0);
  EXPECT_EQ(codec.name(), "fetchsgd");
  EXPECT_EQ(codec.k(), 10);
  const std::vector<float> g = Gaussian(kSmall.dim, 6, 1.0F);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());
  EXPECT_EQ(bytes, SketchBytes(kSmall, g));
  ASSERT_TRUE(codec.Encode(g, &bytes).ok());  // stateless
  EXPECT_EQ(bytes, SketchBytes(kSmall, g));
  std::vector<float> poisoned = g;
  poisoned[3] = std::numeric_limits<float>::infinity();
  ExpectError(codec.Encode(poisoned, &bytes), Status::Code::kInvalidArgument,
              "fetchsgd codec: value at coordinate 3 is inf, not finite");
}

// The planted setting of CountSketchTest.HeavyHittersRecoverPlantedCoordinates
// (k = 1000 heavy coordinates of magnitude 10 to 20 among d = 10^6, noise
// N(0, 0.1^2), r = 5, c = 10,000), spread over 4 workers: each holds a
// quarter of the heavy values plus its own N(0, 0.05^2) noise, so the sum is
// the planted vector. With P = 4, the candidates hold every planted
// coordinate, and the exact second round returns exactly them with the
// workers' summed values.
TEST(SketchedSgdRoundTest, PlantedHeavyHittersSurviveBothRounds) {
  constexpr int64_t kDim = 1'000'000;
  constexpr int64_t kHeavy = 1000;
  constexpr int kWorkers = 4;
  const SketchShape shape{
      .rows = 5, .columns = 10'000, .dim = kDim, .seed = 17};
  const std::vector<uint32_t> heavy = RandomCoordinates(kDim, kHeavy, 7);
  const std::vector<float> heavy_values = HeavyValues(kHeavy, 8);

  std::vector<SketchCodec> workers;
  workers.reserve(kWorkers);
  SketchedSgdRound round(shape, kHeavy, 4);
  round.Begin();
  for (int w = 0; w < kWorkers; ++w) {
    std::vector<float> g = Gaussian(kDim, 20 + w, 0.05F);
    for (size_t n = 0; n < heavy.size(); ++n) {
      g[heavy[n]] += heavy_values[n] / kWorkers;
    }
    workers.emplace_back(shape, kHeavy, 4, 0.0);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(workers.back().Encode(g, &bytes).ok());
    ASSERT_TRUE(round.AddMessage(bytes).ok());
  }
  const std::vector<uint32_t>& candidates = round.Candidates();
  ASSERT_EQ(candidates.size(), 4U * kHeavy);
  EXPECT_TRUE(std::includes(candidates.begin(), candidates.end(), heavy.begin(),
                            heavy.end()));

  std::vector<double> expected_sums(heavy.size());
  for (SketchCodec& worker : workers) {
    std::vector<float> exact(candidates.size());
    ASSERT_TRUE(worker.ExactValues(candidates, exact).ok());
    ASSERT_TRUE(round.AddValues(FloatBytes(exact)).ok());
    std::vector<float> at_heavy(heavy.size());
    ASSERT_TRUE(worker.ExactValues(heavy, at_heavy).ok());
    for (size_t n = 0; n < heavy.size(); ++n) {
      expected_sums[n] += at_heavy[n];
    }
  }
  std::vector<uint32_t> indices;
  std::vector<float> sums;
  round.Finish(RoundScale{}, &indices, &sums);
  EXPECT_EQ(indices, heavy);
  ASSERT_EQ(sums.size(), heavy.size());
  for (size_t n = 0; n < heavy.size(); ++n) {
    EXPECT_EQ(sums[n], static_cast<float>(expected_sums[n])) << heavy[n];
    EXPECT_NEAR(sums[n], heavy_values[n], 0.5) << heavy[n];
  }
}

TEST(SketchedSgdRoundTest, RejectsBadMessagesAndKeepsTheRound) {
  SketchedSgdRound round(kSmall, 10, 3);
  SketchCodec worker(kSmall, 10, 3, 0.0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(worker.Encode(Gaussian(kSmall.dim, 9, 1.0F), &bytes).ok());
  ExpectError(round.AddValues(FloatBytes(std::vector<float>(30))),
              Status::Code::kFailedPrecondition,
              "before the round's candidates");
  ASSERT_TRUE(round.AddMessage(bytes).ok());
  const std::vector<float> sum = Copy(round.sum().table());

  std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 4);
  ExpectError(round.AddMessage(truncated), Status::Code::kDataLoss,
              "truncated");
  std::vector<uint8_t> wrong_magic = bytes;
  wrong_magic[0] = 0;
  ExpectError(round.AddMessage(wrong_magic), Status::Code::kDataLoss,
              "magic byte 0");
  std::vector<uint8_t> extra = bytes;
  extra.push_back(1);
  ExpectError(round.AddMessage(extra), Status::Code::kDataLoss, "oversized");
  std::vector<uint8_t> nan_cell = bytes;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan_cell.data() + CountSketch::kHeaderBytes, &nan, 4);
  ExpectError(round.AddMessage(nan_cell), Status::Code::kDataLoss,
              "sketch cell (0, 0) is nan");
  SketchShape other = kSmall;
  other.seed = 5;
  ExpectError(round.AddMessage(SketchBytes(other, Gaussian(kSmall.dim, 9, 1))),
              Status::Code::kInvalidArgument,
              "sketch hash seeds differ: 1 vs 5");
  other = kSmall;
  other.rows = 3;
  ExpectError(round.AddMessage(SketchBytes(other, Gaussian(kSmall.dim, 9, 1))),
              Status::Code::kInvalidArgument, "sketch shapes differ");
  EXPECT_EQ(Copy(round.sum().table()), sum);

  const std::vector<uint32_t> candidates = round.Candidates();
  ASSERT_EQ(candidates.size(), 30U);
  ExpectError(round.AddMessage(bytes), Status::Code::kFailedPrecondition,
              "after the round's candidates");
  std::vector<float> exact(candidates.size());
  ASSERT_TRUE(worker.ExactValues(candidates, exact).ok());
  ExpectError(round.AddValues(std::vector<uint8_t>(119)),
              Status::Code::kDataLoss,
              "exact values have 119 bytes, expected 120");
  std::vector<float> poisoned = exact;
  poisoned[7] = nan;
  ExpectError(round.AddValues(FloatBytes(poisoned)), Status::Code::kDataLoss,
              "exact value 7 (coordinate " + std::to_string(candidates[7]) +
                  ") is nan, not finite");
  // Misaligned bytes are fine.
  std::vector<uint8_t> shifted = {0};
  const std::vector<uint8_t> exact_bytes = FloatBytes(exact);
  shifted.insert(shifted.end(), exact_bytes.begin(), exact_bytes.end());
  ASSERT_TRUE(
      round.AddValues(std::span<const uint8_t>(shifted).subspan(1)).ok());

  std::vector<uint32_t> indices;
  std::vector<float> sums;
  round.Finish(RoundScale{}, &indices, &sums);
  std::vector<uint32_t> expected_positions;
  LargestMagnitudes(exact, 10, &expected_positions);
  ASSERT_EQ(indices.size(), 10U);
  for (size_t m = 0; m < indices.size(); ++m) {
    EXPECT_EQ(indices[m], candidates[expected_positions[m]]);
    EXPECT_EQ(sums[m], exact[expected_positions[m]]);
  }

  round.Begin();
  EXPECT_TRUE(std::all_of(round.sum().table().begin(),
                          round.sum().table().end(),
                          [](float cell) { return cell == 0.0F; }));
  EXPECT_TRUE(round.AddMessage(bytes).ok());
}

// Error feedback with rho = 0: whatever a round applies is removed from the
// workers' accumulations, so the applied sums plus the workers' final v add
// up to all the inputs.
TEST(SketchedSgdRoundTest, ErrorFeedbackConservesTheInputs) {
  const SketchShape shape{.rows = 5, .columns = 500, .dim = 5000, .seed = 3};
  constexpr int64_t kK = 50;
  constexpr int kWorkers = 2;
  std::vector<SketchCodec> workers(kWorkers, SketchCodec(shape, kK, 3, 0.0));
  SketchedSgdRound round(shape, kK, 3);
  std::vector<double> inputs(static_cast<size_t>(shape.dim));
  std::vector<double> applied(inputs.size());
  for (int step = 0; step < 8; ++step) {
    round.Begin();
    for (int w = 0; w < kWorkers; ++w) {
      std::vector<float> g =
          Gaussian(static_cast<size_t>(shape.dim), 100 * step + w, 1.0F);
      for (float& value : g) {
        value = value * value * value;  // heavy-tailed
      }
      for (size_t i = 0; i < g.size(); ++i) {
        inputs[i] += g[i];
      }
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(workers[w].Encode(g, &bytes).ok());
      ASSERT_TRUE(round.AddMessage(bytes).ok());
    }
    const std::vector<uint32_t> candidates = round.Candidates();
    ASSERT_EQ(candidates.size(), 150U);
    for (SketchCodec& worker : workers) {
      std::vector<float> exact(candidates.size());
      ASSERT_TRUE(worker.ExactValues(candidates, exact).ok());
      ASSERT_TRUE(round.AddValues(FloatBytes(exact)).ok());
    }
    std::vector<uint32_t> indices;
    std::vector<float> sums;
    round.Finish(RoundScale{}, &indices, &sums);
    ASSERT_EQ(indices.size(), static_cast<size_t>(kK));
    for (size_t m = 0; m < indices.size(); ++m) {
      applied[indices[m]] += sums[m];
    }
    for (SketchCodec& worker : workers) {
      ASSERT_TRUE(worker.Applied(indices).ok());
    }
  }
  double error = 0;
  double norm = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    double total = applied[i];
    for (const SketchCodec& worker : workers) {
      total += worker.accumulated()[i];
    }
    error += (total - inputs[i]) * (total - inputs[i]);
    norm += inputs[i] * inputs[i];
    ASSERT_NEAR(total, inputs[i], 1e-4 * std::max(1.0, std::fabs(inputs[i])))
        << "coordinate " << i;
  }
  EXPECT_LE(std::sqrt(error), 1e-5 * std::sqrt(norm));
}

// With rho = 0 and two workers each holding k = 50 planted coordinates of
// magnitude 10 to 20 among d = 10^6 (plus N(0, 0.01^2) noise), one round
// returns the planted coordinates, valued at the sum of the workers' values
// whatever the learning rate (the update is in the messages' units), and
// zeroes every cell they hash to in both sketches, so their estimates are
// exactly 0. One-round recovery needs k << c: with c = 20,000 a coordinate
// meets a heavy one in a row with probability 0.0025, and a false heavy
// hitter needs 3 of 5 rows to meet heavy ones of one sign.
TEST(FetchSgdServerTest, RecoversPlantedHeavyHittersAndZeroesTheirCells) {
  const SketchShape shape{
      .rows = 5, .columns = 20'000, .dim = 1'000'000, .seed = 9};
  constexpr int64_t kK = 50;
  const std::vector<uint32_t> heavy = RandomCoordinates(shape.dim, kK, 10);
  const std::vector<float> heavy_values = HeavyValues(kK, 11);
  FetchSgdServer server(shape, kK, 0.0);
  server.Begin();
  for (int w = 0; w < 2; ++w) {
    std::vector<float> g =
        Gaussian(static_cast<size_t>(shape.dim), 30 + w, 0.01F);
    for (size_t n = 0; n < heavy.size(); ++n) {
      g[heavy[n]] += heavy_values[n];
    }
    FetchSgdCodec worker(shape, kK, 0.0);
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(worker.Encode(g, &bytes).ok());
    ASSERT_TRUE(server.AddMessage(bytes).ok());
  }
  std::vector<uint32_t> indices;
  std::vector<float> values;
  server.Finish({.contributors = 2, .learning_rate = 0.25}, &indices, &values);
  EXPECT_EQ(indices, heavy);
  ASSERT_EQ(values.size(), heavy.size());
  for (size_t n = 0; n < heavy.size(); ++n) {
    EXPECT_NEAR(values[n], 2 * heavy_values[n], 0.4) << heavy[n];
    EXPECT_EQ(server.error().Estimate(heavy[n]), 0.0F) << heavy[n];
    EXPECT_EQ(server.momentum().Estimate(heavy[n]), 0.0F) << heavy[n];
  }
}

// The cells (row-major) that coordinate i hashes to in sketches of `shape`:
// the nonzero cells of S(e_i).
std::vector<size_t> CellsOf(const SketchShape& shape, uint32_t i) {
  CountSketch unit(shape);
  unit.InsertSparse(std::vector<uint32_t>{i}, std::vector<float>{1.0F});
  std::vector<size_t> cells;
  for (size_t n = 0; n < unit.table().size(); ++n) {
    if (unit.table()[n] != 0.0F) cells.push_back(n);
  }
  return cells;
}

// Three rounds with momentum, varying contributors and a learning-rate
// decay, against the recurrence written out with CountSketch operations:
// S_u <- rho S_u + S / n, S_e <- S_e + γ S_u, then both zeroed at the cells
// of the applied coordinates (not S(update) subtracted, which diverges).
TEST(FetchSgdServerTest, ZeroesTheCellsOfTheAppliedCoordinates) {
  constexpr int64_t kK = 20;
  constexpr float kRho = 0.9F;
  const RoundScale scales[] = {{.contributors = 3, .learning_rate = 0.1},
                               {.contributors = 2, .learning_rate = 0.1},
                               {.contributors = 3, .learning_rate = 0.01}};
  FetchSgdServer server(kSmall, kK, kRho);
  CountSketch momentum(kSmall);
  CountSketch error(kSmall);
  for (int step = 0; step < 3; ++step) {
    const RoundScale& scale = scales[step];
    CountSketch round_sum(kSmall);
    server.Begin();
    for (int w = 0; w < scale.contributors; ++w) {
      const std::vector<float> g = Gaussian(kSmall.dim, 40 + 3 * step + w, 1);
      const std::vector<uint8_t> bytes = SketchBytes(kSmall, g);
      ASSERT_TRUE(server.AddMessage(bytes).ok());
      ASSERT_TRUE(round_sum.MergeSerialized(bytes).ok());
    }
    EXPECT_EQ(Copy(server.round_sum().table()), Copy(round_sum.table()));
    momentum.Scale(kRho);
    ASSERT_TRUE(
        momentum.Merge(round_sum, static_cast<float>(1.0 / scale.contributors))
            .ok());
    ASSERT_TRUE(
        error.Merge(momentum, static_cast<float>(scale.learning_rate)).ok());
    std::vector<float> estimates(static_cast<size_t>(kSmall.dim));
    error.EstimateAll(estimates);
    std::vector<uint32_t> expected_indices;
    LargestMagnitudes(estimates, kK, &expected_indices);
    std::vector<size_t> zeroed;
    for (const uint32_t i : expected_indices) {
      for (const size_t cell : CellsOf(kSmall, i)) {
        zeroed.push_back(cell);
      }
    }
    // The cells to clear hold mass, so clearing them is seen.
    EXPECT_TRUE(std::any_of(zeroed.begin(), zeroed.end(), [&](size_t cell) {
      return error.table()[cell] != 0.0F;
    }));

    std::vector<uint32_t> indices;
    std::vector<float> values;
    server.Finish(scale, &indices, &values);
    EXPECT_EQ(indices, expected_indices);
    ASSERT_EQ(values.size(), expected_indices.size());
    const double to_messages = scale.contributors / scale.learning_rate;
    for (size_t m = 0; m < values.size(); ++m) {
      EXPECT_EQ(values[m],
                static_cast<float>(estimates[indices[m]] * to_messages));
    }
    std::vector<float> expected_momentum = Copy(momentum.table());
    std::vector<float> expected_error = Copy(error.table());
    for (const size_t cell : zeroed) {
      expected_momentum[cell] = 0.0F;
      expected_error[cell] = 0.0F;
    }
    EXPECT_EQ(Copy(server.momentum().table()), expected_momentum);
    EXPECT_EQ(Copy(server.error().table()), expected_error);
    momentum.ZeroBucketsOf(expected_indices);
    error.ZeroBucketsOf(expected_indices);
  }
}

// A run small enough to follow by hand: d = 8, r = 2 rows of c = 4 cells,
// k = 2, rho = 1/2, two workers, learning rates 1/2, 1/2, 1/4. Every value
// is a short dyadic fraction, so float arithmetic is exact and the expected
// numbers below (worked out by hand, and by a separate script in exact
// rationals) are compared with ==.
//
// The hashes of seed 21 (bucket, sign), as count_sketch.h defines them:
//   i      0    1    2    3    4    5    6    7
//   row 0  3+   2-   0+   1-   2+   2-   0+   3+
//   row 1  0-   0+   2+   3-   1-   0+   1-   3-
// Cell (j, b) is the signed sum of the coordinates with h_j(i) = b; the
// estimate of i is the mean of its two signed cells.
constexpr SketchShape kByHand{.rows = 2, .columns = 4, .dim = 8, .seed = 21};
constexpr int kByHandBuckets[2][8] = {{3, 2, 0, 1, 2, 2, 0, 3},
                                      {0, 0, 2, 3, 1, 0, 1, 3}};
constexpr float kByHandSigns[2][8] = {{1, -1, 1, -1, 1, -1, 1, 1},
                                      {-1, 1, 1, -1, -1, 1, -1, -1}};

// The cells of a serialised sketch, row-major.
std::vector<float> CellsIn(std::span<const uint8_t> bytes) {
  std::vector<float> cells((bytes.size() - CountSketch::kHeaderBytes) /
                           sizeof(float));
  std::memcpy(cells.data(), bytes.data() + CountSketch::kHeaderBytes,
              cells.size() * sizeof(float));
  return cells;
}

// The table above is what count_sketch.h's hash definition gives, written
// out again here: t_j = the low 32 bits of MixSeed(seed, j), z = fmix32(i ^
// t_j), h_j(i) = (z c) >> 32, s_j(i) = -1 for odd z.
TEST(FetchSgdServerTest, TheHandRunHashesAreTheDocumentedOnes) {
  for (int j = 0; j < kByHand.rows; ++j) {
    const auto row_seed =
        static_cast<uint32_t>(MixSeed(kByHand.seed, static_cast<uint64_t>(j)));
    for (uint32_t i = 0; i < kByHand.dim; ++i) {
      uint32_t z = i ^ row_seed;
      z = (z ^ (z >> 16)) * 0x85ebca6bU;
      z = (z ^ (z >> 13)) * 0xc2b2ae35U;
      z ^= z >> 16;
      const auto bucket = static_cast<int>(
          (uint64_t{z} * static_cast<uint64_t>(kByHand.columns)) >> 32);
      EXPECT_EQ(bucket, kByHandBuckets[j][i]) << j << " " << i;
      EXPECT_EQ((z & 1U) != 0 ? -1.0F : 1.0F, kByHandSigns[j][i])
          << j << " " << i;
    }
  }
}

TEST(FetchSgdServerTest, FollowsAHandComputedRun) {
  struct Round {
    float gradients[2][8];    // worker a, worker b
    float messages[2][8];     // their sketches, rows 0 and 1 side by side
    double learning_rate;     // γ
    float momentum[8];        // S_u before zeroing
    float error[8];           // S_e before zeroing
    uint32_t indices[2];      // the update
    float applied[2];         // g~: the estimates of S_e there
    float momentum_after[8];  // S_u after zeroing
    float error_after[8];     // S_e after zeroing
  };
  const Round rounds[] = {
      // Coordinate 0 is large for both workers; 3 (-3/4) beats 1 and 5
      // (-1/2). Zeroing clears cell (0, 1), where coordinate 3 sits alone,
      // and (0, 3), (1, 0), (1, 3); the error of coordinates 1, 4 and 5 in
      // cell (0, 2) stays. Subtracting S(g~) would leave (0, 1) at -1/4.
      {.gradients = {{4, 0, 0, 0, 0, 1, 0, -2}, {4, 0, 0, -2, 0, 1, 0, 0}},
       .messages = {{0, 0, -1, 2, -3, 0, 0, 2}, {0, 2, -1, 4, -3, 0, 0, 2}},
       .learning_rate = 0.5,
       .momentum = {0, 1, -1, 3, -3, 0, 0, 2},
       .error = {0, 0.5, -0.5, 1.5, -1.5, 0, 0, 1},
       .indices = {0, 3},
       .applied = {1.5, -0.75},
       .momentum_after = {0, 0, -1, 0, 0, 0, 0, 0},
       .error_after = {0, 0, -0.5, 0, 0, 0, 0, 0}},
      // Coordinates 1 and 5 share both their cells, so their estimates are
      // equal (13/8) and both are applied; 4 (-1) loses. The momentum kept
      // in (0, 2) adds -1/2 to the round's mean there.
      {.gradients = {{0, 0, 0, -2, 0, 2, 0, 0}, {0, 2, 0, 0, 0, 1, 0, 0}},
       .messages = {{0, 2, -2, 0, 2, 0, 0, 2}, {0, 0, -3, 0, 3, 0, 0, 0}},
       .learning_rate = 0.5,
       .momentum = {0, 1, -3, 0, 2.5, 0, 0, 1},
       .error = {0, 0.5, -2, 0, 1.25, 0, 0, 0.5},
       .indices = {1, 5},
       .applied = {1.625, 1.625},
       .momentum_after = {0, 1, 0, 0, 0, 0, 0, 1},
       .error_after = {0, 0.5, 0, 0, 0, 0, 0, 0.5}},
      // After a decay to γ = 1/4, coordinate 3's error from round 1 (kept
      // at γ = 1/2 in (0, 1) and (1, 3)) and its momentum make it the
      // largest (-9/16), ahead of coordinate 2, this round's largest
      // gradient (1/4).
      {.gradients = {{0, 0, 2, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1}},
       .messages = {{2, 0, 0, 0, 0, 0, 2, 0}, {0, 0, 0, 1, 0, 0, 0, -1}},
       .learning_rate = 0.25,
       .momentum = {1, 0.5, 0, 0.5, 0, 0, 1, 0},
       .error = {0.25, 0.625, 0, 0.125, 0, 0, 0.25, 0.5},
       .indices = {2, 3},
       .applied = {0.25, -0.5625},
       .momentum_after = {0, 0, 0, 0.5, 0, 0, 0, 0},
       .error_after = {0, 0, 0, 0.125, 0, 0, 0, 0}},
  };
  constexpr int kWorkers = 2;
  FetchSgdServer server(kByHand, 2, 0.5);
  FetchSgdCodec worker(kByHand, 2, 0.5);
  std::vector<float> momentum_before(8, 0.0F);
  std::vector<float> error_before(8, 0.0F);
  for (const Round& round : rounds) {
    // The table's own arithmetic: S_u = S_u / 2 + (S_a + S_b) / 2 and
    // S_e = S_e + γ S_u, from the zeroed sketches of the round before.
    for (int n = 0; n < 8; ++n) {
      EXPECT_EQ(round.momentum[n],
                0.5F * momentum_before[n] +
                    (round.messages[0][n] + round.messages[1][n]) / 2);
      EXPECT_EQ(round.error[n],
                error_before[n] + static_cast<float>(round.learning_rate) *
                                      round.momentum[n]);
    }
    momentum_before = Copy(round.momentum_after);
    error_before = Copy(round.error_after);

    server.Begin();
    for (int w = 0; w < kWorkers; ++w) {
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(worker.Encode(round.gradients[w], &bytes).ok());
      ASSERT_EQ(CellsIn(bytes), Copy(round.messages[w]));
      ASSERT_TRUE(server.AddMessage(bytes).ok());
    }
    std::vector<uint32_t> indices;
    std::vector<float> values;
    server.Finish(
        {.contributors = kWorkers, .learning_rate = round.learning_rate},
        &indices, &values);
    EXPECT_EQ(indices, std::vector<uint32_t>(std::begin(round.indices),
                                             std::end(round.indices)));
    // In the messages' units, summed over the workers: 2 g~ / γ.
    ASSERT_EQ(values.size(), 2U);
    for (size_t m = 0; m < 2; ++m) {
      EXPECT_EQ(values[m], static_cast<float>(kWorkers * round.applied[m] /
                                              round.learning_rate));
    }
    EXPECT_EQ(Copy(server.momentum().table()), Copy(round.momentum_after));
    EXPECT_EQ(Copy(server.error().table()), Copy(round.error_after));
  }
}

// A coordinate among the top k whose estimate is 0 (its two rows cancel)
// moves nothing, so its cells keep their error: with g = (1, 2, 0, -1, 0,
// ...), k = 5 and rho = 0, the sketch is row 0 (0, 1, -2, 1), row 1 (1, 0,
// 0, 1); the estimates are (0, 3/2, 0, -1, -1, 3/2, 0, 0), so the update is
// coordinates 0, 1, 3, 4, 5 valued 0, 3/2, -1, -1, 3/2. Coordinates 1, 3,
// 4 and 5 clear row 0's cells 1, 2 and row 1's 0, 1, 3; cell (0, 3), where
// coordinate 0's 1 sits, stays.
TEST(FetchSgdServerTest, AZeroUpdateKeepsItsCells) {
  FetchSgdServer server(kByHand, 5, 0.0);
  FetchSgdCodec worker(kByHand, 5, 0.0);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(
      worker.Encode(std::vector<float>{1, 2, 0, -1, 0, 0, 0, 0}, &bytes).ok());
  server.Begin();
  ASSERT_TRUE(server.AddMessage(bytes).ok());
  std::vector<uint32_t> indices;
  std::vector<float> values;
  server.Finish(RoundScale{}, &indices, &values);
  EXPECT_EQ(indices, (std::vector<uint32_t>{0, 1, 3, 4, 5}));
  EXPECT_EQ(values, (std::vector<float>{0, 1.5, -1, -1, 1.5}));
  const std::vector<float> kept = {0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(Copy(server.error().table()), kept);
  EXPECT_EQ(Copy(server.momentum().table()), kept);
}

TEST(SketchRegistryTest, DefaultWidthsAndOversizedSketchesByName) {
  CodecOptions options;
  options.topk_fraction = 0.01;  // k = 10 of 1000
  const auto sketch = MakeCodec("sketch", 1000, options);
  const auto fetch = MakeCodec("fetchsgd", 1000, options);
  ASSERT_TRUE(sketch.ok() && fetch.ok());
  EXPECT_EQ(dynamic_cast<const SketchCodec&>(**sketch).shape().columns, 100);
  EXPECT_EQ(dynamic_cast<const FetchSgdCodec&>(**fetch).shape().columns, 400);
  EXPECT_EQ(SketchShapeFor("sketch", 1000, options).columns, 100);
  EXPECT_EQ(SketchShapeFor("fetchsgd", 1000, options).columns, 400);

  // Columns per applied coordinate, for both; absolute columns win.
  options.sketch_columns_per_k = 20;
  const auto wider = MakeCodec("fetchsgd", 1000, options);
  ASSERT_TRUE(wider.ok());
  EXPECT_EQ(dynamic_cast<const FetchSgdCodec&>(**wider).shape(),
            SketchShapeFor("fetchsgd", 1000, options));
  EXPECT_EQ(SketchShapeFor("fetchsgd", 1000, options).columns, 200);
  EXPECT_EQ(SketchShapeFor("sketch", 1000, options).columns, 200);
  options.sketch_columns = 77;
  EXPECT_EQ(SketchShapeFor("sketch", 1000, options).columns, 77);
  options.sketch_columns = 0;
  options.sketch_columns_per_k = -1;
  const Status negative = ValidateCodecOptions("sketch", options);
  EXPECT_EQ(negative.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(negative.message().find("sketch_columns_per_k must be in [0, "
                                    "2^31]"),
            std::string::npos)
      << negative.ToString();
  options.sketch_columns_per_k = 0;

  options.sketch_columns = int64_t{1} << 30;
  const auto oversized = MakeCodec("sketch", 1000, options);
  ASSERT_FALSE(oversized.ok());
  EXPECT_NE(oversized.status().message().find("codec sketch: sketch rows x "
                                              "columns must be <= 2^31"),
            std::string::npos)
      << oversized.status().ToString();
}

// The codecs say themselves whether their rounds are decided on the
// server: the registry agrees with NewRoundProtocol, only Sketched SGD
// asks a second round, and its workers and those of its exact control
// learn the applied coordinates.
TEST(RoundProtocolTest, OnlyTheSketchedCodecsDecideOnTheRound) {
  CodecOptions options;
  options.topk_fraction = 0.01;
  for (const std::string_view name : CodecNames()) {
    const auto codec = MakeCodec(name, 1000, options);
    ASSERT_TRUE(codec.ok()) << name;
    const std::unique_ptr<RoundProtocol> protocol =
        (*codec)->NewRoundProtocol();
    const bool round_level =
        name == "sketch" || name == "fetchsgd" || name == "global-topk";
    const bool keeps_error = name == "sketch" || name == "global-topk";
    EXPECT_EQ(protocol != nullptr, round_level) << name;
    EXPECT_EQ(DecidesOnTheRound(name), round_level) << name;
    if (protocol != nullptr) {
      EXPECT_EQ(protocol->asks_values(), name == "sketch") << name;
      EXPECT_EQ(protocol->tells_applied(), keeps_error) << name;
    }
    std::vector<float> out(1);
    const Status values = (*codec)->ExactValues(std::vector<uint32_t>{0}, out);
    EXPECT_EQ(values.ok(), keeps_error) << name << values.ToString();
  }
}

// Save and Load in the middle of a round carry everything: a protocol
// restored from the saved bytes finishes the round exactly as the original.
TEST(RoundProtocolTest, SavedStateFinishesTheRoundIdentically) {
  constexpr int64_t kK = 20;
  constexpr RoundScale kScale{.contributors = 2, .learning_rate = 0.1};
  for (const bool second_round : {true, false}) {
    std::unique_ptr<RoundProtocol> original;
    std::unique_ptr<RoundProtocol> restored;
    if (second_round) {
      original = std::make_unique<SketchedSgdRound>(kSmall, kK, 3);
      restored = std::make_unique<SketchedSgdRound>(kSmall, kK, 3);
    } else {
      original = std::make_unique<FetchSgdServer>(kSmall, kK, 0.9);
      restored = std::make_unique<FetchSgdServer>(kSmall, kK, 0.9);
    }
    // One finished round (FetchSGD keeps momentum and error), then half of
    // the next.
    for (int round = 0; round < 2; ++round) {
      original->Begin();
      for (int w = 0; w < 2; ++w) {
        ASSERT_TRUE(
            original
                ->AddMessage(SketchBytes(
                    kSmall, Gaussian(kSmall.dim, 60 + 2 * round + w, 1.0F)))
                .ok());
      }
      if (round == 1) break;
      if (second_round) {
        const size_t count = original->Candidates().size();
        ASSERT_TRUE(
            original->AddValues(FloatBytes(Gaussian(count, 70, 1.0F))).ok());
      }
      std::vector<uint32_t> indices;
      std::vector<float> values;
      original->Finish(kScale, &indices, &values);
    }
    if (second_round) original->Candidates();
    ByteWriter saved;
    original->Save(&saved);
    ByteReader reader(saved.bytes());
    ASSERT_TRUE(restored->Load(&reader).ok()) << reader.status().ToString();
    ASSERT_TRUE(reader.Finish().ok());
    ByteWriter again;
    restored->Save(&again);
    EXPECT_EQ(again.bytes(), saved.bytes());

    std::vector<uint32_t> indices[2];
    std::vector<float> values[2];
    RoundProtocol* protocols[2] = {original.get(), restored.get()};
    for (int n = 0; n < 2; ++n) {
      if (second_round) {
        const size_t count = protocols[n]->Candidates().size();
        ASSERT_TRUE(protocols[n]
                        ->AddValues(FloatBytes(Gaussian(count, 71, 1.0F)))
                        .ok());
      }
      protocols[n]->Finish(kScale, &indices[n], &values[n]);
    }
    EXPECT_EQ(indices[0], indices[1]);
    EXPECT_EQ(values[0], values[1]);
  }
}

TEST(RoundProtocolTest, LoadRefusesStateOfAnotherShape) {
  const SketchShape wider{.rows = kSmall.rows,
                          .columns = kSmall.columns * 2,
                          .dim = kSmall.dim,
                          .seed = kSmall.seed};
  FetchSgdServer original(wider, 10, 0.0);
  FetchSgdServer other(kSmall, 10, 0.0);
  ByteWriter saved;
  original.Save(&saved);
  ByteReader reader(saved.bytes());
  EXPECT_FALSE(other.Load(&reader).ok());
}

}  // namespace
}  // namespace anchorage::codec
