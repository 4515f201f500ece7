// The sketched codecs' round step folds the k-sparse update into the
// aggregator's round so that the published anchor is the mean base minus
// the mean of the workers' exact values at the applied coordinates.
#include "common/algo/sketch_step.h"

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/push_codec.h"
#include "common/codec/sketch_codec.h"

namespace anchorage::algo {
namespace {

constexpr int64_t kDim = 2000;

codec::CodecOptions SketchOptions() {
  codec::CodecOptions options;
  options.topk_fraction = 0.01;  // k = 20, 5 x 200 cells
  options.sketch_seed = 11;
  return options;
}

TEST(SketchStepTest, OnlySketchedCodecsHaveAStep) {
  const auto dense = codec::MakeCodec("dense", kDim).value();
  const auto topk = codec::MakeCodec("topk", kDim).value();
  EXPECT_EQ(SketchStep::For(*dense, false, 0), nullptr);
  EXPECT_EQ(SketchStep::For(*topk, true, 0), nullptr);
  const auto fetch = codec::MakeCodec("fetchsgd", kDim, SketchOptions());
  ASSERT_TRUE(fetch.ok());
  const auto step = SketchStep::For(**fetch, true, 0);
  ASSERT_NE(step, nullptr);
  EXPECT_FALSE(step->asks_exact_values());
}

TEST(SketchStepTest, RoundPublishesBaseMinusMeanOfAppliedExactValues) {
  constexpr int kWorkers = 3;
  const std::vector<float> base(kDim, 1.0F);
  Aggregator aggregator({.mode = AggregationMode::kSync}, base);
  std::vector<PushEncoder> workers;
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0.0F, 0.01F);
  std::vector<std::vector<uint8_t>> pushes(kWorkers);
  std::vector<std::vector<float>> deltas(kWorkers,
                                         std::vector<float>(kDim, 0.0F));
  for (int w = 0; w < kWorkers; ++w) {
    ASSERT_TRUE(aggregator.AddWorker(static_cast<uint32_t>(w)).ok());
    workers.emplace_back(
        Algorithm::kLocalSgd,
        codec::MakeCodec("sketch", kDim, SketchOptions()).value());
    std::vector<float> model(kDim);
    for (int64_t i = 0; i < kDim; ++i) {
      // Coordinates 100..119 moved far in every worker, the rest a little.
      const bool heavy = i >= 100 && i < 120;
      model[i] =
          base[i] - (heavy ? 1.0F + 0.1F * static_cast<float>(w) : noise(rng));
      deltas[w][i] = base[i] - model[i];
    }
    ASSERT_TRUE(workers.back().Encode(base, model, &pushes[w]).ok());
  }
  const std::unique_ptr<SketchStep> step =
      SketchStep::For(workers.front().codec(), true, 0);
  ASSERT_NE(step, nullptr);
  ASSERT_TRUE(step->asks_exact_values());
  step->Begin();
  std::vector<float> placeholder(kDim);
  for (int w = 0; w < kWorkers; ++w) {
    ASSERT_TRUE(step->AddSketch(pushes[w]).ok());
    step->Placeholder(base, placeholder);
    ASSERT_TRUE(
        aggregator.Submit(static_cast<uint32_t>(w), 0, &placeholder).ok());
  }
  const std::vector<uint32_t> candidates = step->Candidates();
  for (PushEncoder& worker : workers) {
    const auto& sketch =
        dynamic_cast<const codec::SketchCodec&>(worker.codec());
    std::vector<float> values(candidates.size());
    ASSERT_TRUE(sketch.ExactValues(candidates, values).ok());
    ASSERT_TRUE(step->AddExact({reinterpret_cast<const uint8_t*>(values.data()),
                                values.size() * sizeof(float)})
                    .ok());
  }
  const std::vector<uint32_t> applied = step->Finish(&aggregator);
  aggregator.CloseRound();

  ASSERT_EQ(applied.size(), 20U);
  std::vector<float> expected = base;
  for (uint32_t i : applied) {
    EXPECT_GE(i, 100U);
    EXPECT_LT(i, 120U);
    double mean = 0;
    for (const auto& delta : deltas)
      mean += delta[i];
    expected[i] -= static_cast<float>(mean / kWorkers);
  }
  const std::span<const float> anchor = aggregator.anchor();
  for (int64_t i = 0; i < kDim; ++i) {
    EXPECT_NEAR(anchor[i], expected[i], 1e-5) << i;
  }
}

}  // namespace
}  // namespace anchorage::algo
