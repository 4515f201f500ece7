// Contribution bounds (DESIGN.md section 10) through the round core, for
// every codec: a push far larger than the recent ones is refused by name
// and leaves the anchor where it was; an aggregation that would make the
// anchor non-finite is refused with the state untouched; a worker's
// out-of-range statistics are refused by name and cannot end the run.
#include "common/algo/contribution_bound.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/anchor_round.h"
#include "common/algo/push_codec.h"

namespace anchorage::algo {
namespace {

constexpr int64_t kDim = 400;
constexpr int kWorkers = 2;

template <typename T>
std::vector<T> All(const Effects& effects) {
  std::vector<T> found;
  for (const Effect& effect : effects) {
    if (const T* value = std::get_if<T>(&effect)) found.push_back(*value);
  }
  return found;
}

TEST(ContributionBoundTest, TheAdaptiveBoundFollowsTheRecentMedian) {
  ContributionBound bound({.max_norm = 0, .factor = 10});
  EXPECT_TRUE(std::isinf(bound.Limit()));  // not warmed up
  for (const double norm : {1.0, 3.0, 2.0}) {
    bound.Accept(norm);
  }
  EXPECT_DOUBLE_EQ(bound.Limit(), 20.0);
  EXPECT_TRUE(bound.Check(20.0).empty());
  EXPECT_NE(bound.Check(20.5).find("--update-norm-factor"), std::string::npos);
  // The window forgets: 64 norms of 100 move the median there.
  for (size_t n = 0; n < ContributionBound::kWindow; ++n) {
    bound.Accept(100);
  }
  EXPECT_DOUBLE_EQ(bound.Limit(), 1000.0);
}

// Norms are kept per unit learning rate: after a decay to a tenth, a
// contribution still made at the old rate (a straggler's) may be ten times
// the new ones, and one at the new rate may not.
TEST(ContributionBoundTest, TheAdaptiveBoundScalesWithTheLearningRate) {
  ContributionBound bound({.max_norm = 0, .factor = 10});
  for (const double norm : {0.1, 0.1, 0.1}) {
    bound.Accept(norm, 0.1);  // 1 per unit rate
  }
  EXPECT_DOUBLE_EQ(bound.Limit(0.1), 1.0);
  EXPECT_DOUBLE_EQ(bound.Limit(0.01), 0.1);
  EXPECT_TRUE(bound.Check(0.9, 0.1).empty());
  EXPECT_FALSE(bound.Check(0.9, 0.01).empty());
  // The absolute bound is in the norm's own units, whatever the rate.
  ContributionBound absolute({.max_norm = 5, .factor = 0});
  EXPECT_DOUBLE_EQ(absolute.Limit(100), 5.0);
}

// When most sources are refused with no acceptance between, each within
// ten times the limit, the norms moved, not the workers: the window
// restarts. A minority cannot bring that about, nor can outliers beyond
// that, nor refusals by the absolute bound.
TEST(ContributionBoundTest, AMajorityRefusedRestartsTheWindow) {
  ContributionBound bound({.max_norm = 0, .factor = 10});
  for (const double norm : {1.0, 1.0, 1.0}) {
    bound.Accept(norm);
  }
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_FALSE(bound.Check(50).empty());
    bound.Refuse(i % 2, 5, 50);  // two of five sources
  }
  EXPECT_DOUBLE_EQ(bound.Limit(), 10.0);
  // An acceptance starts the count again.
  bound.Accept(1.0);
  bound.Refuse(2, 5, 50);
  bound.Refuse(3, 5, 50);
  EXPECT_DOUBLE_EQ(bound.Limit(), 10.0);
  bound.Refuse(4, 5, 1e30);  // an outlier does not count
  EXPECT_DOUBLE_EQ(bound.Limit(), 10.0);
  bound.Refuse(4, 5, 50);  // three of five: warm-up again
  EXPECT_TRUE(std::isinf(bound.Limit()));

  ContributionBound absolute({.max_norm = 20, .factor = 10});
  for (const double norm : {1.0, 1.0, 1.0}) {
    absolute.Accept(norm);
  }
  for (uint32_t source = 0; source < 5; ++source) {
    absolute.Refuse(source, 5, 50);
  }
  EXPECT_DOUBLE_EQ(absolute.Limit(), 10.0);
}

TEST(ContributionBoundTest, TheAbsoluteBoundHoldsFromTheStart) {
  ContributionBound bound({.max_norm = 5, .factor = 10});
  EXPECT_DOUBLE_EQ(bound.Limit(), 5.0);
  EXPECT_NE(bound.Check(6).find("--max-update-norm"), std::string::npos);
  for (const double norm : {0.1, 0.1, 0.1}) {
    bound.Accept(norm);
  }
  EXPECT_DOUBLE_EQ(bound.Limit(), 1.0);  // the tighter of the two
}

TEST(ContributionBoundTest, StateRoundTripsAndRefusesCorruption) {
  ContributionBound bound({});
  for (const double norm : {1.0, 2.0, 3.0, 4.0}) {
    bound.Accept(norm);
  }
  ByteWriter out;
  bound.Save(&out);
  ContributionBound restored({});
  ByteReader in(out.bytes());
  restored.Load(&in);
  ASSERT_TRUE(in.Finish().ok());
  EXPECT_EQ(restored.Limit(), bound.Limit());

  ByteWriter bad;
  bad.Doubles(std::vector<double>{1.0, -2.0});
  bad.U64(0);
  ByteReader bad_in(bad.bytes());
  restored.Load(&bad_in);
  EXPECT_FALSE(bad_in.ok());
}

// A round with two joined workers and their encoders, fed honest pushes
// (a small random step from the anchor) round after round.
class BoundedRound {
 public:
  BoundedRound(const std::string& codec, AggregationMode mode,
               Algorithm algorithm = Algorithm::kLocalSgd) {
    AnchorRoundOptions options;
    options.algorithm = algorithm;
    options.aggregator.mode = mode;
    options.aggregator.outer.algorithm = algorithm;
    options.workers = kWorkers;
    options.schedule.lr = 0.1F;
    options.max_versions = 100000;
    options.batch_size = 8;
    options_ = options;
    codec_options_.topk_fraction = 0.05;
    codec_options_.sketch_seed = 3;
    std::vector<float> initial(kDim, 0.5F);
    round_ = AnchorRound::Create(options, initial, MakeCodec(codec)).value();
    for (uint32_t id = 0; id < kWorkers; ++id) {
      encoders_.emplace_back(algorithm, MakeCodec(codec));
      round_->OnJoin(0, {.worker = id,
                         .incarnation = 1,
                         .model_dim = kDim,
                         .algorithm = std::string(AlgorithmName(algorithm)),
                         .codec = codec,
                         .codec_settings = round_->codec().settings()});
    }
  }

  std::unique_ptr<codec::Codec> MakeCodec(const std::string& codec) const {
    return codec::MakeCodec(codec, kDim, codec_options_).value();
  }

  // Worker `id` pushes the anchor moved by `scale` times a random step;
  // returns the effects, answering a sketch's query.
  // With `hostile_values`, a sketch query is answered with that value in
  // every candidate.
  Effects Push(uint32_t id, float scale,
               std::optional<float> hostile_values = std::nullopt) {
    const std::vector<float> base(round_->anchor().begin(),
                                  round_->anchor().end());
    std::vector<float> model = base;
    std::normal_distribution<float> step(0.0F, 0.01F);
    const bool gradient = options_.algorithm == Algorithm::kMinibatchSgd;
    for (size_t i = 0; i < model.size(); ++i) {
      model[i] = (gradient ? 0.0F : model[i]) + scale * step(rng_);
    }
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(encoders_[id].Encode(base, model, &bytes).ok());
    Effects effects =
        round_->OnPush(now_, {.worker = id,
                              .round = round_->round(),
                              .base_version = round_->version(),
                              .codec = std::string(round_->codec().name()),
                              .report = {.samples = 8, .local_steps = 1},
                              .payloads = {bytes}});
    for (const Query& query : All<Query>(effects)) {
      Answer(query, &effects,
             query.worker == id ? hostile_values : std::nullopt);
    }
    return effects;
  }

  // Worker `id` pushes `payload` as it is, as a hostile peer would; with
  // `hostile_values`, its sketch query is answered with that value in every
  // candidate (the other worker answers honestly).
  Effects PushRaw(uint32_t id, const std::vector<uint8_t>& payload,
                  std::optional<float> hostile_values = std::nullopt) {
    Effects effects =
        round_->OnPush(now_, {.worker = id,
                              .round = round_->round(),
                              .base_version = round_->version(),
                              .codec = std::string(round_->codec().name()),
                              .report = {.samples = 8, .local_steps = 1},
                              .payloads = {payload}});
    for (const Query& query : All<Query>(effects)) {
      Answer(query, &effects,
             query.worker == id ? hostile_values : std::nullopt);
    }
    return effects;
  }

  // An honest push of worker `id`'s encoder, then `PushRaw` of the other.
  Effects HonestThenHostile(uint32_t hostile,
                            const std::vector<uint8_t>& payload,
                            std::optional<float> hostile_values) {
    Effects effects = Push(1 - hostile, 1.0F);
    const Effects more = PushRaw(hostile, payload, hostile_values);
    effects.insert(effects.end(), more.begin(), more.end());
    return effects;
  }

  void Answer(const Query& query, Effects* effects,
              std::optional<float> fill = std::nullopt) {
    std::vector<float> values(query.candidates->size());
    ASSERT_TRUE(encoders_[query.worker]
                    .codec()
                    .ExactValues(*query.candidates, values)
                    .ok());
    if (fill) std::fill(values.begin(), values.end(), *fill);
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    const Effects answered = round_->OnValues(
        now_,
        {.worker = query.worker, .round = query.round, .payloads = {bytes}});
    effects->insert(effects->end(), answered.begin(), answered.end());
  }

  // Worker `id` starts over with a fresh encoder (its error feedback, which
  // kept what the refused push did not send, is gone).
  void Restart(uint32_t id) {
    encoders_[id] = PushEncoder(options_.algorithm,
                                MakeCodec(std::string(round_->codec().name())));
  }

  // Honest rounds: every worker pushes once.
  void Train(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (uint32_t id = 0; id < kWorkers; ++id) {
        Push(id, 1.0F);
      }
      now_ += 1;
    }
  }

  AnchorRound& round() { return *round_; }

 private:
  AnchorRoundOptions options_;
  codec::CodecOptions codec_options_;
  std::unique_ptr<AnchorRound> round_;
  std::vector<PushEncoder> encoders_;
  std::mt19937 rng_{7};
  double now_ = 0;
};

class EveryCodecTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryCodecTest, AHugePushIsRefusedAndTheAnchorStays) {
  const std::string codec = GetParam();
  const bool sketched = codec == "sketch" || codec == "fetchsgd";
  BoundedRound bounded(
      codec, sketched ? AggregationMode::kSync : AggregationMode::kAsync);
  bounded.Train(4);
  AnchorRound& round = bounded.round();
  const std::vector<float> before(round.anchor().begin(), round.anchor().end());
  const uint64_t version = round.version();
  // 10^4 times an honest step: representable by every codec, far beyond
  // ten times the median.
  const Effects effects = bounded.Push(0, 1e4F);
  const std::vector<Refused> refused = All<Refused>(effects);
  ASSERT_EQ(refused.size(), 1U) << codec;
  EXPECT_EQ(refused[0].reason, "update_norm");
  EXPECT_TRUE(refused[0].was_push);
  EXPECT_EQ(round.version(), version);
  EXPECT_EQ(std::vector<float>(round.anchor().begin(), round.anchor().end()),
            before);
  EXPECT_EQ(round.stats().refusals.at("update_norm"), 1);
  // The run goes on: honest pushes are still applied.
  bounded.Restart(0);
  bounded.Train(1);
  EXPECT_GT(round.version(), version);
}

// What a hostile peer can put in a payload of `codec`: every value `fill`,
// or the largest power-of-ten fraction of it the codec can encode (fp16
// tops out at 65504; a QSGD norm or a sketch cell must itself be finite).
std::vector<uint8_t> HostilePayload(const std::string& codec, float fill) {
  codec::CodecOptions options;
  options.topk_fraction = 0.05;
  options.sketch_seed = 3;
  std::vector<uint8_t> bytes;
  for (float value = fill; std::abs(value) > 1.0F; value /= 10.0F) {
    const auto encoder = codec::MakeCodec(codec, kDim, options).value();
    if (encoder->Encode(std::vector<float>(kDim, value), &bytes).ok()) {
      return bytes;
    }
  }
  ADD_FAILURE() << codec << " encodes no value of " << fill;
  return bytes;
}

// Two hostile peers, one pushing all-1e30 and one all-3e38 (or the most a
// codec carries): each push is refused, the anchor stays finite, and
// honest training goes on.
TEST_P(EveryCodecTest, PushesOfHugeValuesLeaveTheAnchorFinite) {
  const std::string codec = GetParam();
  const bool sketched = codec == "sketch" || codec == "fetchsgd";
  BoundedRound bounded(
      codec, sketched ? AggregationMode::kSync : AggregationMode::kAsync);
  bounded.Train(4);
  AnchorRound& round = bounded.round();
  const auto finite = [&] {
    return std::all_of(round.anchor().begin(), round.anchor().end(),
                       [](float v) { return std::isfinite(v); });
  };
  const int64_t refused_before = round.stats().refused_messages;
  int hostile = 0;
  for (const float fill : {1e30F, 3e38F, -3e38F}) {
    const uint32_t id = hostile++ % 2;
    const std::vector<uint8_t> payload = HostilePayload(codec, fill);
    const Effects effects =
        sketched ? bounded.HonestThenHostile(id, payload, std::nullopt)
                 : bounded.PushRaw(id, payload);
    EXPECT_FALSE(All<Refused>(effects).empty()) << codec << " " << fill;
    EXPECT_TRUE(finite()) << codec << " " << fill;
    bounded.Restart(1 - id);
  }
  EXPECT_GE(round.stats().refused_messages - refused_before, 3);
  // Honest pushes are applied after all that.
  const uint64_t version = round.version();
  for (uint32_t id = 0; id < kWorkers; ++id) {
    bounded.Restart(id);
  }
  bounded.Train(2);
  EXPECT_GT(round.version(), version);
  EXPECT_TRUE(finite());
}

// Sketched SGD's second round: honest sketches from both workers, then
// exact values of 3e38 from one, refused by the values' norm bound.
TEST(ContributionBoundTest, SketchValuesOfHugeValuesAreRefused) {
  BoundedRound bounded("sketch", AggregationMode::kSync);
  bounded.Train(4);
  const uint64_t version = bounded.round().version();
  bounded.Push(0, 1.0F);
  const std::vector<Refused> refused =
      All<Refused>(bounded.Push(1, 1.0F, 3e38F));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "update_norm");
  EXPECT_TRUE(std::all_of(bounded.round().anchor().begin(),
                          bounded.round().anchor().end(),
                          [](float v) { return std::isfinite(v); }));
  bounded.Restart(1);
  bounded.Train(2);
  EXPECT_GT(bounded.round().version(), version);
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodecTest,
                         ::testing::Values("dense", "fp16", "bf16", "qsgd",
                                           "dqsgd", "topk", "sketch",
                                           "fetchsgd"));

TEST(ContributionBoundTest, MinibatchGradientsAreBoundedByTheirNorm) {
  BoundedRound bounded("dense", AggregationMode::kSync,
                       Algorithm::kMinibatchSgd);
  bounded.Train(3);
  const std::vector<Refused> refused = All<Refused>(bounded.Push(0, 1e3F));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "update_norm");
}

// Raw dense pushes, as a hostile peer would craft them.
PushRequest RawPush(uint32_t worker, uint64_t round, uint64_t base, float value,
                    std::vector<uint8_t>* storage) {
  const std::vector<float> model(kDim, value);
  storage->resize(model.size() * sizeof(float));
  std::memcpy(storage->data(), model.data(), storage->size());
  return {.worker = worker,
          .round = round,
          .base_version = base,
          .codec = "dense",
          .report = {.samples = 8, .local_steps = 1},
          .payloads = {*storage}};
}

AnchorRoundOptions Unbounded(AggregationMode mode) {
  AnchorRoundOptions options;
  options.algorithm = Algorithm::kLocalSgd;
  options.aggregator.mode = mode;
  options.aggregator.outer.algorithm = Algorithm::kLocalSgd;
  options.workers = kWorkers;
  options.max_versions = 1000;
  options.bound.factor = 0;  // only the anchor's finiteness bounds them
  return options;
}

std::unique_ptr<AnchorRound> JoinedRound(const AnchorRoundOptions& options) {
  const std::vector<float> initial(kDim, 0.0F);
  auto round = AnchorRound::Create(options, initial,
                                   codec::MakeCodec("dense", kDim, {}).value())
                   .value();
  for (uint32_t id = 0; id < kWorkers; ++id) {
    round->OnJoin(0, {.worker = id,
                      .incarnation = 1,
                      .model_dim = kDim,
                      .algorithm = "local-sgd",
                      .codec = "dense",
                      .codec_settings = round->codec().settings()});
  }
  return round;
}

TEST(AnchorFinitenessTest, AsyncPushThatWouldOverflowTheAnchorIsRefused) {
  const auto round = JoinedRound(Unbounded(AggregationMode::kAsync));
  std::vector<uint8_t> bytes;
  round->OnPush(0, RawPush(0, 0, 0, 3e38F, &bytes));
  ASSERT_EQ(round->version(), 1U);
  const std::vector<float> before(round->anchor().begin(),
                                  round->anchor().end());
  const std::vector<Refused> refused =
      All<Refused>(round->OnPush(0, RawPush(1, 0, 1, 3e38F, &bytes)));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "anchor_non_finite");
  EXPECT_EQ(round->version(), 1U);
  EXPECT_EQ(std::vector<float>(round->anchor().begin(), round->anchor().end()),
            before);
  // The refused push left no trace: worker 1's slot still holds 0, so its
  // next push of -3e38 cancels worker 0's exactly.
  EXPECT_TRUE(
      All<Refused>(round->OnPush(0, RawPush(1, 0, 1, -3e38F, &bytes))).empty());
  EXPECT_EQ(round->version(), 2U);
  EXPECT_EQ(round->anchor()[0], 0.0F);
}

TEST(AnchorFinitenessTest, SyncRoundThatWouldOverflowIsDiscarded) {
  const auto round = JoinedRound(Unbounded(AggregationMode::kSync));
  std::vector<uint8_t> bytes;
  round->OnPush(0, RawPush(0, 0, 0, 3e38F, &bytes));
  const Effects effects = round->OnPush(0, RawPush(1, 0, 0, 3e38F, &bytes));
  EXPECT_EQ(round->version(), 0U);
  EXPECT_EQ(round->round(), 1U);
  EXPECT_EQ(round->anchor()[0], 0.0F);
  EXPECT_EQ(All<AnchorUpdate>(effects).size(), 2U);  // both go on
  EXPECT_EQ(round->stats().refusals.at("anchor_non_finite"), 1);
}

TEST(ReportRangeTest, OutOfRangeClaimsAreRefusedByName) {
  AnchorRoundOptions options = Unbounded(AggregationMode::kAsync);
  options.batch_size = 8;
  options.epochs = 1;
  options.examples_per_epoch = 1000;
  const auto round = JoinedRound(options);
  std::vector<uint8_t> bytes;
  const auto reason_of = [&](const PushRequest& request) {
    const std::vector<Refused> refused =
        All<Refused>(round->OnPush(0, request));
    return refused.size() == 1 ? refused[0].reason : std::string("none");
  };
  PushRequest samples = RawPush(0, 0, 0, 1.0F, &bytes);
  samples.report.samples = uint64_t{1} << 62;
  EXPECT_EQ(reason_of(samples), "statistics");
  PushRequest steps = RawPush(0, 0, 0, 1.0F, &bytes);
  steps.report.local_steps = 1000;
  EXPECT_EQ(reason_of(steps), "statistics");
  PushRequest loss = RawPush(0, 0, 0, 1.0F, &bytes);
  loss.report.train_loss = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(reason_of(loss), "statistics");
  PushRequest bits = RawPush(0, 0, 0, 1.0F, &bytes);
  bits.report.quantized_pushes = 2;
  bits.report.quantization_bits_sum = 65;  // more than 32 per push
  EXPECT_EQ(reason_of(bits), "statistics");
  bits.report.quantized_pushes = UINT64_MAX;  // 32 times that overflows
  bits.report.quantization_bits_sum = UINT64_MAX;
  EXPECT_EQ(reason_of(bits), "statistics");
  PushRequest far_round = RawPush(0, uint64_t{1} << 63, 0, 1.0F, &bytes);
  EXPECT_EQ(reason_of(far_round), "round");
  PushRequest future_base = RawPush(0, 0, UINT64_MAX, 1.0F, &bytes);
  EXPECT_EQ(reason_of(future_base), "base_version");

  EXPECT_FALSE(round->finished());
  EXPECT_EQ(round->samples(), 0);
  EXPECT_EQ(round->version(), 0U);
  const RoundStats stats = round->stats();
  EXPECT_EQ(stats.refusals.at("statistics"), 5);
  EXPECT_EQ(stats.quantization_bits_mean, 0.0);
  EXPECT_EQ(stats.refusals.at("round"), 1);
  EXPECT_EQ(stats.refusals.at("base_version"), 1);
  // An honest push is applied after all that.
  EXPECT_EQ(reason_of(RawPush(0, 0, 0, 1.0F, &bytes)), "none");
  EXPECT_EQ(round->samples(), 8);
}

// A worker reports when it began its first local step (unix ns, its
// clock); the server keeps the latest over the workers as the end of the
// run's start-up. A time after the push was sent or far in the future is
// refused by name like the other statistics; one from before the run
// started (a worker that outlived an earlier server) is not counted.
TEST(ReportRangeTest, AFirstStepOutsideTheRunIsRefusedByName) {
  constexpr int64_t kSecond = int64_t{1000} * 1000 * 1000;
  constexpr int64_t kStart = int64_t{1700000000} * kSecond;
  AnchorRoundOptions options = Unbounded(AggregationMode::kAsync);
  options.started_unix_ns = kStart;
  const auto round = JoinedRound(options);
  std::vector<uint8_t> bytes;
  const auto push = [&](uint32_t worker, int64_t first_step, int64_t sent,
                        int64_t received) {
    PushRequest request = RawPush(worker, 0, 0, 1.0F, &bytes);
    request.report.first_step_unix_ns = first_step;
    request.sent_unix_ns = sent;
    request.received_unix_ns = received;
    return All<Refused>(round->OnPush(0, request));
  };
  const int64_t now = kStart + 10 * kSecond;
  struct Lie {
    const char* what;
    int64_t first_step;
    int64_t sent;
  };
  const std::vector<Lie> lies = {
      {"negative", -1, now},
      {"after it sent this push", now + 1, now},
      {"after the push arrived", now + 2 * kClockSlackNs,
       now + 2 * kClockSlackNs},
      {"near the end of time", INT64_MAX, INT64_MAX},
  };
  for (const Lie& lie : lies) {
    SCOPED_TRACE(lie.what);
    const std::vector<Refused> refused = push(0, lie.first_step, lie.sent, now);
    ASSERT_EQ(refused.size(), 1U);
    EXPECT_EQ(refused[0].reason, "statistics");
    EXPECT_NE(refused[0].text.find("worker 0"), std::string::npos)
        << refused[0].text;
    EXPECT_NE(refused[0].text.find("first local step"), std::string::npos)
        << refused[0].text;
  }
  EXPECT_EQ(round->stats().refusals.at("statistics"),
            static_cast<int64_t>(lies.size()));
  EXPECT_EQ(round->version(), 0U);

  // Honest reports, one within the clock slack before the start (another
  // host's clock); an older worker's 0 is no report, and neither is one
  // from an earlier run, though its push is applied.
  EXPECT_EQ(round->stats().first_step_unix_ns, 0);
  EXPECT_TRUE(push(0, kStart - kClockSlackNs / 2, now, now).empty());
  EXPECT_TRUE(push(0, 0, now, now).empty());
  EXPECT_TRUE(push(1, kStart - 2 * kClockSlackNs, now, now).empty());
  EXPECT_EQ(round->stats().first_steps_unix_ns, 0);  // worker 1 not yet
  // Training began with the first worker's first step.
  EXPECT_EQ(round->stats().first_step_unix_ns, kStart - kClockSlackNs / 2);
  EXPECT_TRUE(push(1, kStart + 2 * kSecond, now, now).empty());
  RoundStats stats = round->stats();
  EXPECT_EQ(stats.started_unix_ns, kStart);
  EXPECT_EQ(stats.first_steps_unix_ns, kStart + 2 * kSecond);
  EXPECT_EQ(stats.first_step_unix_ns, kStart - kClockSlackNs / 2);
  // Worker 1 started again: its first first step still counts.
  EXPECT_TRUE(push(1, kStart + 5 * kSecond, now, now).empty());
  EXPECT_EQ(round->stats().first_steps_unix_ns, kStart + 2 * kSecond);

  // A resumed run keeps its start and the workers' first steps, whatever
  // the start its new server passes.
  options.started_unix_ns = kStart + 100 * kSecond;
  auto resumed = JoinedRound(options);
  ASSERT_TRUE(resumed->Load(round->Save()).ok());
  stats = resumed->stats();
  EXPECT_EQ(stats.started_unix_ns, kStart);
  EXPECT_EQ(stats.first_steps_unix_ns, kStart + 2 * kSecond);
  EXPECT_EQ(stats.first_step_unix_ns, kStart - kClockSlackNs / 2);
}

}  // namespace
}  // namespace anchorage::algo
