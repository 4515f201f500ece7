// The round core's decisions, effect by effect, with no sockets: joins and
// their refusals, the sync barrier (round 0, quorum, deadline), late
// joiners, lost workers, stale and duplicate pushes, relative bases, the
// sketches' second round, the learning rate of a round, the budget, and the
// state's round trip.
#include "common/algo/anchor_round.h"

#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/push_codec.h"

namespace anchorage::algo {
namespace {

constexpr int64_t kDim = 16;

template <typename T>
std::vector<T> All(const Effects& effects) {
  std::vector<T> found;
  for (const Effect& effect : effects) {
    if (const T* value = std::get_if<T>(&effect)) found.push_back(*value);
  }
  return found;
}

template <typename T>
bool Has(const Effects& effects) {
  return !All<T>(effects).empty();
}

std::vector<float> Filled(float value, int64_t dim = kDim) {
  return std::vector<float>(static_cast<size_t>(dim), value);
}

AnchorRoundOptions SyncOptions(int workers) {
  AnchorRoundOptions options;
  options.algorithm = Algorithm::kLocalSgd;
  options.aggregator.mode = AggregationMode::kSync;
  options.aggregator.outer.algorithm = Algorithm::kLocalSgd;
  options.workers = workers;
  options.schedule.lr = 0.1F;
  options.max_versions = 1000;
  return options;
}

AnchorRoundOptions AsyncOptions(int workers) {
  AnchorRoundOptions options = SyncOptions(workers);
  options.algorithm = Algorithm::kOverlapLocalSgd;
  options.aggregator.mode = AggregationMode::kAsync;
  options.aggregator.outer.algorithm = Algorithm::kOverlapLocalSgd;
  return options;
}

std::unique_ptr<AnchorRound> MakeRound(const AnchorRoundOptions& options,
                                       const std::string& codec = "dense",
                                       codec::CodecOptions codec_options = {},
                                       int64_t dim = kDim) {
  const std::vector<float> initial = Filled(0.0F, dim);
  auto round = AnchorRound::Create(
      options, initial, codec::MakeCodec(codec, dim, codec_options).value());
  EXPECT_TRUE(round.ok()) << round.status().ToString();
  return std::move(round).value();
}

JoinRequest Join(const AnchorRound& round, uint32_t worker,
                 uint64_t incarnation = 1,
                 const std::string& algorithm = "local-sgd") {
  return {.worker = worker,
          .incarnation = incarnation,
          .model_dim = static_cast<uint64_t>(round.dim()),
          .algorithm = algorithm,
          .codec = std::string(round.codec().name()),
          .codec_settings = round.codec().settings()};
}

// A dense push: the payload bytes live in *storage.
PushRequest Push(uint32_t worker, uint64_t round, uint64_t base,
                 const std::vector<float>& model, std::vector<uint8_t>* storage,
                 uint64_t samples = 32) {
  storage->resize(model.size() * sizeof(float));
  std::memcpy(storage->data(), model.data(), storage->size());
  return {.worker = worker,
          .round = round,
          .base_version = base,
          .codec = "dense",
          .report = {.samples = samples, .local_steps = 1},
          .payloads = {*storage}};
}

// A round made with `options`, every one of its workers joined as
// overlap-local-sgd workers.
std::unique_ptr<AnchorRound> JoinedAsyncRound(
    const AnchorRoundOptions& options) {
  auto round = MakeRound(options);
  for (uint32_t id = 0; id < static_cast<uint32_t>(options.workers); ++id) {
    round->OnJoin(0, Join(*round, id, 1, "overlap-local-sgd"));
  }
  return round;
}

void JoinAll(AnchorRound& round, int workers, double now = 0) {
  for (uint32_t id = 0; id < static_cast<uint32_t>(workers); ++id) {
    const Effects effects = round.OnJoin(now, Join(round, id));
    ASSERT_EQ(All<Welcome>(effects).size(), 1U);
  }
}

TEST(AnchorRoundTest, JoinRefusalsNameTheProblem) {
  const auto round = MakeRound(SyncOptions(2));
  JoinRequest request = Join(*round, 5);
  std::vector<Refused> refused = All<Refused>(round->OnJoin(0, request));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].code, Refusal::kUnknownWorker);
  EXPECT_NE(refused[0].text.find("outside [0, 2)"), std::string::npos);

  request = Join(*round, 0);
  request.model_dim = 3;
  refused = All<Refused>(round->OnJoin(0, request));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "dimension");

  request = Join(*round, 0);
  request.algorithm = "slowmo";
  refused = All<Refused>(round->OnJoin(0, request));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].code, Refusal::kWrongAlgorithm);
  EXPECT_NE(refused[0].text.find("runs slowmo, the server local-sgd"),
            std::string::npos);

  request = Join(*round, 0);
  request.codec_settings = "5 x 99 sketch";
  refused = All<Refused>(round->OnJoin(0, request));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].code, Refusal::kWrongCodec);
  EXPECT_FALSE(round->IsLive(0));
  EXPECT_EQ(round->stats().refused_messages, 4);
}

TEST(AnchorRoundTest, PushBeforeJoinIsRefusedAndCountedAsAPush) {
  const auto round = MakeRound(SyncOptions(2));
  std::vector<uint8_t> bytes;
  const std::vector<Refused> refused =
      All<Refused>(round->OnPush(0, Push(0, 0, 0, Filled(1), &bytes)));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].code, Refusal::kUnknownWorker);
  EXPECT_TRUE(refused[0].was_push);
  EXPECT_EQ(round->stats().pushes_rejected, 1);
  EXPECT_EQ(round->version(), 0U);
}

TEST(AnchorRoundTest, RoundZeroWaitsForEveryExpectedWorker) {
  const auto round = MakeRound(SyncOptions(3));
  JoinAll(*round, 2);
  std::vector<uint8_t> bytes;
  round->OnPush(1, Push(0, 0, 0, Filled(3), &bytes));
  const Effects second = round->OnPush(2, Push(1, 0, 0, Filled(6), &bytes));
  // Both live workers are in, but worker 2 has not joined yet.
  EXPECT_FALSE(Has<AnchorUpdate>(second));
  EXPECT_EQ(round->version(), 0U);
  round->OnJoin(3, Join(*round, 2));
  const Effects third = round->OnPush(4, Push(2, 0, 0, Filled(9), &bytes));
  EXPECT_EQ(All<AnchorUpdate>(third).size(), 3U);
  EXPECT_EQ(round->version(), 1U);
  EXPECT_EQ(round->anchor()[0], 6.0F);
  const std::vector<VersionPublished> published = All<VersionPublished>(third);
  ASSERT_EQ(published.size(), 1U);
  EXPECT_DOUBLE_EQ(published[0].straggler_seconds, 3.0);  // first at 1, at 4
}

TEST(AnchorRoundTest, TheDeadlineClosesARoundWithAQuorum) {
  AnchorRoundOptions options = SyncOptions(4);
  options.round_deadline_seconds = 10;
  options.quorum = 0.5;
  const auto round = MakeRound(options);
  JoinAll(*round, 4);
  std::vector<uint8_t> bytes;
  round->OnPush(1, Push(0, 0, 0, Filled(2), &bytes));
  // One of four is below the quorum, even past the deadline.
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnTick(11)));
  round->OnPush(12, Push(1, 0, 0, Filled(4), &bytes));
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnTick(9.5)));
  const Effects closed = round->OnTick(12.5);
  EXPECT_EQ(All<AnchorUpdate>(closed).size(), 4U);
  EXPECT_EQ(round->anchor()[0], 3.0F);
  // The late worker's push for round 0 is stale and catches it up.
  const Effects late = round->OnPush(13, Push(2, 0, 0, Filled(100), &bytes));
  EXPECT_TRUE(Has<PushStale>(late));
  const std::vector<AnchorUpdate> catch_up = All<AnchorUpdate>(late);
  ASSERT_EQ(catch_up.size(), 1U);
  EXPECT_EQ(catch_up[0].worker, 2U);
  EXPECT_EQ(catch_up[0].next_round, 1U);
  EXPECT_EQ(round->stats().pushes_stale, 1);
}

TEST(AnchorRoundTest, AnEmptyRoundPastItsDeadlineOnlyRestartsTheClock) {
  AnchorRoundOptions options = SyncOptions(2);
  options.round_deadline_seconds = 10;
  options.quorum = 0.5;
  const auto round = MakeRound(options);
  JoinAll(*round, 2);
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnTick(11)));
  std::vector<uint8_t> bytes;
  round->OnPush(12, Push(0, 0, 0, Filled(2), &bytes));
  // The deadline counts from 11 now, not from 0.
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnTick(20)));
  EXPECT_TRUE(Has<AnchorUpdate>(round->OnTick(21.5)));
}

TEST(AnchorRoundTest, ADuplicatePushIsStaleAndAnswered) {
  const auto round = MakeRound(SyncOptions(2));
  JoinAll(*round, 2);
  std::vector<uint8_t> bytes;
  round->OnPush(0, Push(0, 0, 0, Filled(1), &bytes));
  const Effects again = round->OnPush(0, Push(0, 0, 0, Filled(5), &bytes));
  EXPECT_TRUE(Has<PushStale>(again));
  EXPECT_EQ(All<AnchorUpdate>(again).size(), 1U);
  round->OnPush(0, Push(1, 0, 0, Filled(3), &bytes));
  EXPECT_EQ(round->anchor()[0], 2.0F);  // the first push of worker 0 counts
}

TEST(AnchorRoundTest, ALostWorkerStopsHoldingUpLaterRounds) {
  const auto round = MakeRound(SyncOptions(3));
  JoinAll(*round, 3);
  std::vector<uint8_t> bytes;
  for (uint32_t id = 0; id < 3; ++id) {
    round->OnPush(0, Push(id, 0, 0, Filled(1), &bytes));
  }
  ASSERT_EQ(round->version(), 1U);
  round->OnPush(1, Push(0, 1, 1, Filled(2), &bytes));
  round->OnPush(1, Push(1, 1, 1, Filled(4), &bytes));
  const Effects lost = round->OnLost(2, 2);
  const std::vector<MembershipChanged> changes = All<MembershipChanged>(lost);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].change, MembershipChanged::Change::kLost);
  EXPECT_EQ(changes[0].live_workers, 2);
  // Its loss completes round 1 with the two others.
  EXPECT_EQ(All<AnchorUpdate>(lost).size(), 2U);
  EXPECT_EQ(round->anchor()[0], 3.0F);
  EXPECT_EQ(round->stats().lost_workers, std::vector<uint32_t>{2});
  EXPECT_FALSE(round->IsLive(2));
  // Back: a late joiner gets the current anchor and round.
  const std::vector<Welcome> welcome =
      All<Welcome>(round->OnJoin(3, Join(*round, 2, 2)));
  ASSERT_EQ(welcome.size(), 1U);
  EXPECT_EQ(welcome[0].version, 2U);
  EXPECT_EQ(welcome[0].next_round, 2U);
  EXPECT_TRUE(round->stats().lost_workers.empty());
}

TEST(AnchorRoundTest, AWorkerLeavingMidRoundIsNotAveraged) {
  const auto round = MakeRound(SyncOptions(2));
  JoinAll(*round, 2);
  std::vector<uint8_t> bytes;
  round->OnPush(0, Push(0, 0, 0, Filled(1), &bytes));
  round->OnPush(0, Push(1, 0, 0, Filled(1), &bytes));
  ASSERT_EQ(round->version(), 1U);
  round->OnPush(1, Push(0, 1, 1, Filled(10), &bytes));
  const Effects left = round->OnLeave(2, 0, "stopped");
  ASSERT_EQ(All<MembershipChanged>(left).size(), 1U);
  EXPECT_EQ(All<MembershipChanged>(left)[0].reason, "stopped");
  EXPECT_EQ(round->live_workers(), 1);
  round->OnPush(3, Push(1, 1, 1, Filled(2), &bytes));
  EXPECT_EQ(round->version(), 2U);
  EXPECT_EQ(round->anchor()[0], 2.0F);
}

TEST(AnchorRoundTest, AsyncRepliesToEachPushWithItsNextRound) {
  const auto round = MakeRound(AsyncOptions(2));
  for (uint32_t id = 0; id < 2; ++id) {
    round->OnJoin(0, Join(*round, id, 1, "overlap-local-sgd"));
  }
  std::vector<uint8_t> bytes;
  const PushRequest request = Push(1, 2, 0, Filled(4), &bytes);
  const Effects effects = round->OnPush(0.5, request);
  const std::vector<AnchorUpdate> replies = All<AnchorUpdate>(effects);
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].worker, 1U);
  EXPECT_EQ(replies[0].next_round, 3U);
  EXPECT_EQ(replies[0].version, 1U);
  EXPECT_EQ(round->anchor()[0], 2.0F);  // mean of 0 and 4
  const std::vector<PushApplied> applied = All<PushApplied>(effects);
  ASSERT_EQ(applied.size(), 1U);
  EXPECT_EQ(applied[0].staleness, 0.0);
}

// Relative pushes name one of the last two anchors sent to their worker;
// each version is kept once however many workers hold it.
TEST(AnchorRoundTest, RelativePushesNameOneOfTheLastTwoAnchorsSent) {
  const auto round = MakeRound(AsyncOptions(2), "fp16");
  for (uint32_t id = 0; id < 2; ++id) {
    round->OnJoin(0, Join(*round, id, 1, "overlap-local-sgd"));
  }
  std::vector<PushEncoder> encoders;
  encoders.reserve(2);
  for (int w = 0; w < 2; ++w) {
    encoders.emplace_back(Algorithm::kOverlapLocalSgd,
                          codec::MakeCodec("fp16", kDim).value());
  }
  auto push = [&](uint32_t worker, uint64_t base_version,
                  const std::vector<float>& base, float step,
                  std::vector<uint8_t>* bytes) {
    std::vector<float> model = base;
    for (float& x : model) {
      x -= step;
    }
    EXPECT_TRUE(encoders[worker].Encode(base, model, bytes).ok());
    return PushRequest{.worker = worker,
                       .round = 0,
                       .base_version = base_version,
                       .codec = "fp16",
                       .payloads = {*bytes}};
  };
  const std::vector<float> v0(round->anchor().begin(), round->anchor().end());
  std::vector<uint8_t> bytes;
  // Worker 0 pushes against v0 three times: v0 is its base once, then one
  // of its last two, then no longer.
  EXPECT_TRUE(Has<PushApplied>(round->OnPush(0, push(0, 0, v0, 0.5F, &bytes))));
  EXPECT_TRUE(Has<PushApplied>(round->OnPush(0, push(0, 0, v0, 0.5F, &bytes))));
  const std::vector<Refused> refused =
      All<Refused>(round->OnPush(0, push(0, 0, v0, 0.5F, &bytes)));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "base_version");
  EXPECT_NE(refused[0].text.find("v0"), std::string::npos);
  // Worker 1 still holds v0 from its Welcome.
  EXPECT_TRUE(Has<PushApplied>(round->OnPush(0, push(1, 0, v0, 1.0F, &bytes))));
  // A version never sent to it is refused too.
  EXPECT_TRUE(Has<Refused>(round->OnPush(0, push(1, 2, v0, 1.0F, &bytes))));
}

// Async replies carry a snapshot published once the anchor is
// publish_every versions past the last one, shared by every reply until
// the next.
TEST(AnchorRoundTest, AsyncRepliesShareASnapshotPublishedEveryKVersions) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.publish_every = 3;
  const auto round = MakeRound(options);
  for (uint32_t id = 0; id < 2; ++id) {
    EXPECT_EQ(All<Welcome>(
                  round->OnJoin(0, Join(*round, id, 1, "overlap-local-sgd")))[0]
                  .version,
              0U);
  }
  std::vector<uint64_t> versions;
  std::vector<const std::vector<float>*> snapshots;
  std::vector<float> at_three;
  std::vector<uint8_t> bytes;
  for (uint64_t n = 0; n < 7; ++n) {
    const Effects effects =
        round->OnPush(0, Push(1, n, 0, Filled(static_cast<float>(n)), &bytes));
    ASSERT_TRUE(Has<PushApplied>(effects));
    versions.push_back(All<AnchorUpdate>(effects).at(0).version);
    snapshots.push_back(round->published().get());
    if (round->version() == 3) {
      at_three.assign(round->anchor().begin(), round->anchor().end());
    }
  }
  EXPECT_EQ(versions, (std::vector<uint64_t>{0, 0, 3, 3, 3, 6, 6}));
  EXPECT_EQ(round->published_version(), 6U);
  EXPECT_EQ(snapshots[2], snapshots[4]);
  EXPECT_NE(snapshots[4], snapshots[5]);
  // The snapshot of v3 held v3's anchor while later pushes moved the live
  // one.
  EXPECT_EQ(at_three, std::vector<float>(Filled(1.0F)));  // mean of 0, 2
}

// With max_staleness, an async push whose base lags the anchor by more
// versions is dropped as stale and its worker is sent the current anchor;
// a push within the bound is applied.
TEST(AnchorRoundTest, APushPastMaxStalenessIsDroppedAndCaughtUp) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.max_staleness = 2;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  for (uint64_t n = 0; n < 3; ++n) {
    round->OnPush(0, Push(1, n, n, Filled(2), &bytes));
  }
  const std::vector<float> before(round->anchor().begin(),
                                  round->anchor().end());
  Effects effects = round->OnPush(0, Push(0, 0, 0, Filled(100), &bytes));
  EXPECT_TRUE(Has<PushStale>(effects));
  EXPECT_FALSE(Has<PushApplied>(effects));
  const std::vector<AnchorUpdate> replies = All<AnchorUpdate>(effects);
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].worker, 0U);
  EXPECT_EQ(replies[0].version, 3U);
  EXPECT_EQ(replies[0].next_round, 1U);
  EXPECT_EQ(std::vector<float>(round->anchor().begin(), round->anchor().end()),
            before);
  EXPECT_EQ(round->stats().stale_dropped, 1);
  EXPECT_EQ(round->stats().pushes_stale, 1);
  effects = round->OnPush(0, Push(0, 1, 1, Filled(2), &bytes));
  EXPECT_TRUE(Has<PushApplied>(effects));
  EXPECT_EQ(round->stats().stale_dropped, 1);
}

// With reply_wait, an async reply is held until every live worker has
// pushed its round (then every reply carries the whole round), or for at
// most that fraction of the worker's time between pushes; a worker's first
// push, with no interval yet, is answered at once.
TEST(AnchorRoundTest, HeldRepliesWaitForTheRoundOrTheirTime) {
  AnchorRoundOptions options = AsyncOptions(3);
  options.reply_wait = 0.5;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  for (uint32_t id = 0; id < 3; ++id) {
    EXPECT_EQ(
        All<AnchorUpdate>(round->OnPush(0, Push(id, 0, 0, Filled(1), &bytes)))
            .size(),
        1U);
  }
  EXPECT_EQ(round->next_deadline(), std::numeric_limits<double>::infinity());

  // Round 1: the first two wait for the third; all three get its anchor.
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(1.0, Push(0, 1, 3, Filled(2), &bytes))));
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(1.1, Push(1, 1, 3, Filled(2), &bytes))));
  EXPECT_EQ(round->next_deadline(), 1.5);
  std::vector<AnchorUpdate> replies =
      All<AnchorUpdate>(round->OnPush(1.2, Push(2, 1, 3, Filled(2), &bytes)));
  ASSERT_EQ(replies.size(), 3U);
  for (const AnchorUpdate& reply : replies) {
    EXPECT_EQ(reply.version, 6U);
    EXPECT_EQ(reply.next_round, 2U);
  }
  EXPECT_TRUE(All<AnchorUpdate>(round->OnTick(1.6)).empty());

  // Round 2 without worker 2: each reply leaves when its time is up,
  // half of its worker's last interval after its push.
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(2.0, Push(0, 2, 6, Filled(3), &bytes))));
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(2.1, Push(1, 2, 6, Filled(3), &bytes))));
  EXPECT_EQ(round->next_deadline(), 2.5);
  EXPECT_TRUE(All<AnchorUpdate>(round->OnTick(2.4)).empty());
  replies = All<AnchorUpdate>(round->OnTick(2.5));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].worker, 0U);
  replies = All<AnchorUpdate>(round->OnTick(2.6));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].worker, 1U);
  EXPECT_EQ(round->next_deadline(), std::numeric_limits<double>::infinity());

  // Round 3: once the straggler is lost, the two live workers complete it.
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(3.0, Push(0, 3, 8, Filled(4), &bytes))));
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnLost(3.05, 2)));
  replies =
      All<AnchorUpdate>(round->OnPush(3.1, Push(1, 3, 8, Filled(4), &bytes)));
  EXPECT_EQ(replies.size(), 2U);
  // A held reply of a worker that is lost is never sent.
  EXPECT_FALSE(
      Has<AnchorUpdate>(round->OnPush(4.0, Push(0, 4, 10, Filled(5), &bytes))));
  round->OnLost(4.1, 0);
  EXPECT_TRUE(All<AnchorUpdate>(round->OnTick(10.0)).empty());
  EXPECT_EQ(round->next_deadline(), std::numeric_limits<double>::infinity());
}

// The workers' ids in the Welcomes among `effects`.
std::vector<uint32_t> Welcomed(const Effects& effects) {
  std::vector<uint32_t> ids;
  for (const Welcome& welcome : All<Welcome>(effects)) {
    ids.push_back(welcome.worker);
  }
  return ids;
}

TEST(AnchorRoundTest, TheStartWaitWelcomesEveryoneOnceAllHaveJoined) {
  AnchorRoundOptions options = AsyncOptions(3);
  options.start_wait_seconds = 10;
  const auto round = MakeRound(options);

  Effects effects = round->OnJoin(1.0, Join(*round, 2, 1, "overlap-local-sgd"));
  EXPECT_TRUE(Welcomed(effects).empty());
  EXPECT_TRUE(Has<MembershipChanged>(effects));
  EXPECT_EQ(round->next_deadline(), 11.0);
  EXPECT_TRUE(Welcomed(round->OnTick(5.0)).empty());
  // Its Join again (an overdue answer) is still a join, and held.
  effects = round->OnJoin(2.0, Join(*round, 2, 1, "overlap-local-sgd"));
  EXPECT_TRUE(Welcomed(effects).empty());
  ASSERT_EQ(All<MembershipChanged>(effects).size(), 1U);
  EXPECT_EQ(All<MembershipChanged>(effects)[0].change,
            MembershipChanged::Change::kJoined);
  EXPECT_TRUE(
      Welcomed(round->OnJoin(3.0, Join(*round, 0, 1, "overlap-local-sgd")))
          .empty());

  // The last one releases all three, in join order, with one anchor.
  effects = round->OnJoin(4.0, Join(*round, 1, 1, "overlap-local-sgd"));
  EXPECT_EQ(Welcomed(effects), (std::vector<uint32_t>{2, 0, 1}));
  for (const Welcome& welcome : All<Welcome>(effects)) {
    EXPECT_EQ(welcome.version, 0U);
  }
  EXPECT_EQ(round->next_deadline(), std::numeric_limits<double>::infinity());
  // Later joins are welcomed at once.
  round->OnLeave(5.0, 0, "done");
  EXPECT_EQ(
      Welcomed(round->OnJoin(6.0, Join(*round, 0, 2, "overlap-local-sgd"))),
      std::vector<uint32_t>{0});
}

TEST(AnchorRoundTest, TheStartWaitEndsAtItsDeadlineWithThoseStillLive) {
  AnchorRoundOptions options = AsyncOptions(4);
  options.start_wait_seconds = 2;
  const auto round = MakeRound(options);
  for (const uint32_t id : {0U, 1U, 2U}) {
    EXPECT_TRUE(Welcomed(round->OnJoin(0.5 + id, Join(*round, id, 1,
                                                      "overlap-local-sgd")))
                    .empty());
  }
  round->OnLost(2.0, 1);

  EXPECT_TRUE(Welcomed(round->OnTick(2.4)).empty());
  EXPECT_EQ(Welcomed(round->OnTick(2.5)), (std::vector<uint32_t>{0, 2}));
  EXPECT_TRUE(Welcomed(round->OnTick(9.0)).empty());
  EXPECT_EQ(
      Welcomed(round->OnJoin(9.5, Join(*round, 3, 1, "overlap-local-sgd"))),
      std::vector<uint32_t>{3});
}

TEST(AnchorRoundTest, ARestoredRunThatHadBegunDoesNotWaitAgain) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.start_wait_seconds = 10;
  const auto round = MakeRound(options);
  round->OnJoin(0, Join(*round, 0, 1, "overlap-local-sgd"));
  const std::vector<uint8_t> before_start = round->Save();
  round->OnJoin(0, Join(*round, 1, 1, "overlap-local-sgd"));
  std::vector<uint8_t> bytes;
  round->OnPush(1.0, Push(0, 0, 0, Filled(1), &bytes));
  const std::vector<uint8_t> begun = round->Save();

  const auto resumed = MakeRound(options);
  ASSERT_TRUE(resumed->Load(begun).ok());
  EXPECT_EQ(
      Welcomed(resumed->OnJoin(0, Join(*resumed, 1, 2, "overlap-local-sgd"))),
      std::vector<uint32_t>{1});
  // A run saved before anything was applied waits for its workers again.
  const auto restarted = MakeRound(options);
  ASSERT_TRUE(restarted->Load(before_start).ok());
  EXPECT_TRUE(Welcomed(restarted->OnJoin(
                           0, Join(*restarted, 0, 2, "overlap-local-sgd")))
                  .empty());
  EXPECT_EQ(Welcomed(restarted->OnJoin(
                0, Join(*restarted, 1, 2, "overlap-local-sgd"))),
            (std::vector<uint32_t>{0, 1}));
}

// One slow round does not stretch the hold of the next reply: the wait is
// a fraction of the shorter of the worker's last two intervals.
TEST(AnchorRoundTest, AHeldReplyWaitsOnTheShorterOfTheLastTwoIntervals) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.reply_wait = 0.5;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  round->OnPush(0, Push(0, 0, 0, Filled(1), &bytes));
  round->OnPush(1.0, Push(0, 1, 1, Filled(1), &bytes));
  EXPECT_EQ(round->next_deadline(), 1.5);
  EXPECT_EQ(All<AnchorUpdate>(round->OnTick(1.5)).size(), 1U);
  // A round four times as long: the hold is still half of the last
  // normal one.
  round->OnPush(5.0, Push(0, 2, 2, Filled(1), &bytes));
  EXPECT_EQ(round->next_deadline(), 5.5);
  EXPECT_EQ(All<AnchorUpdate>(round->OnTick(5.5)).size(), 1U);
  round->OnPush(6.0, Push(0, 3, 3, Filled(1), &bytes));
  EXPECT_EQ(round->next_deadline(), 6.5);
}

// Async: the outer rule's rate follows the run's progress (examples
// reported over m × batch size), not the round of the worker pushing, so a
// straggler's old round does not bring back a rate the others decayed from.
TEST(AnchorRoundTest, AsyncRateFollowsTheRunsProgress) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.batch_size = 16;
  options.schedule = {.lr = 0.5F, .decay_steps = {2}, .decay_factor = 0.1F};
  const auto round = JoinedAsyncRound(options);
  EXPECT_DOUBLE_EQ(round->LearningRateOfProgress(), 0.5);
  std::vector<uint8_t> bytes;
  // Worker 1 pushes rounds 0-3 of 16 examples: 64 = 2 steps of 2 × 16.
  Effects effects;
  for (uint64_t r = 0; r < 4; ++r) {
    effects =
        round->OnPush(0, Push(1, r, round->version(), Filled(1), &bytes, 16));
    ASSERT_TRUE(Has<PushApplied>(effects));
  }
  EXPECT_NEAR(round->LearningRateOfProgress(), 0.05, 1e-9);
  EXPECT_DOUBLE_EQ(round->LearningRateOfRound(0), 0.5);
  // Every reply and Welcome tells the run's step, so worker 0, still at
  // step 0 of its own, decays its rate with the run.
  EXPECT_EQ(round->ProgressStep(), 2);
  const std::vector<AnchorUpdate> replies = All<AnchorUpdate>(effects);
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(replies[0].schedule_step, 2U);
  // A rejoin (a new incarnation of worker 0) is welcomed at it too.
  const std::vector<Welcome> welcomes =
      All<Welcome>(round->OnJoin(0, Join(*round, 0, 2, "overlap-local-sgd")));
  ASSERT_EQ(welcomes.size(), 1U);
  EXPECT_EQ(welcomes[0].schedule_step, 2U);
}

// A straggler moves its schedule to the progress its anchors tell it, so
// the bound rates its pushes there once it has computed with it (the older
// of the last two told), not at its own round's pre-decay rate.
TEST(AnchorRoundTest, AStragglerIsRatedAtTheProgressItWasTold) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.local_steps = 1;
  options.batch_size = 16;
  options.schedule = {.lr = 0.5F, .decay_steps = {4}, .decay_factor = 0.1F};
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  // Worker 0 pushes rounds 0-7 of 16 examples: the run is at step 4.
  for (uint64_t r = 0; r < 8; ++r) {
    ASSERT_TRUE(Has<PushApplied>(
        round->OnPush(0, Push(0, r, round->version(), Filled(1), &bytes, 16))));
  }
  EXPECT_NEAR(round->RateOfPush(0, 8), 0.05, 1e-7);
  // Worker 1 was told step 0 at its Welcome, and is at its own round 1.
  EXPECT_NEAR(round->RateOfPush(1, 1), 0.5, 1e-7);
  ASSERT_TRUE(Has<PushApplied>(
      round->OnPush(0, Push(1, 0, round->version(), Filled(1), &bytes, 16))));
  // Told step 4 once: its round 1 may still have run at the old rate.
  EXPECT_NEAR(round->RateOfPush(1, 1), 0.5, 1e-7);
  ASSERT_TRUE(Has<PushApplied>(
      round->OnPush(0, Push(1, 1, round->version(), Filled(1), &bytes, 16))));
  EXPECT_NEAR(round->RateOfPush(1, 2), 0.05, 1e-7);
}

// With --anchor-codec fp16 the published snapshot is the anchor as the
// workers decode it: what a relative push's base is.
TEST(AnchorRoundTest, AHalfWidthAnchorCodecPublishesTheRoundedAnchor) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.anchor_codec = "fp16";
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  // The mean of 0 and 0.1: a float fp16 cannot hold exactly.
  ASSERT_TRUE(
      Has<PushApplied>(round->OnPush(0, Push(1, 0, 0, Filled(0.1F), &bytes))));
  const std::unique_ptr<codec::Codec> half =
      codec::MakeCodec("fp16", kDim).value();
  std::vector<uint8_t> encoded;
  std::vector<float> rounded(kDim);
  ASSERT_TRUE(half->Encode(round->anchor(), &encoded).ok());
  ASSERT_TRUE(half->Decode(encoded, rounded).ok());
  EXPECT_NE(std::vector<float>(round->anchor().begin(), round->anchor().end()),
            rounded);
  EXPECT_EQ(*round->published(), rounded);
  // ... and the bytes the server sends are the same encoding.
  ASSERT_NE(round->published_bytes(), nullptr);
  EXPECT_EQ(*round->published_bytes(), encoded);
  // Anchors travel only as dense, fp16 or bf16.
  options.anchor_codec = "qsgd";
  EXPECT_FALSE(AnchorRound::Create(options, Filled(0),
                                   codec::MakeCodec("dense", kDim).value())
                   .ok());
}

// With the inverse staleness weight, an async contribution of staleness s
// reaches the anchor as z + (x − z)/(1 + s); a fresh one in full.
TEST(AnchorRoundTest, InverseStalenessWeightShrinksOldContributions) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.staleness_weight = StalenessWeight::kInverse;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  // Fresh (staleness 0): slot 1 = 4, anchor = (0 + 4) / 2.
  ASSERT_TRUE(
      Has<PushApplied>(round->OnPush(0, Push(1, 0, 0, Filled(4), &bytes))));
  EXPECT_EQ(round->anchor()[0], 2.0F);
  // Worker 0 on base v0 lands on v1 (staleness 1): its 10 counts as
  // 2 + (10 − 2)/2 = 6, anchor = (6 + 4) / 2.
  const Effects effects = round->OnPush(0, Push(0, 0, 0, Filled(10), &bytes));
  const std::vector<PushApplied> applied = All<PushApplied>(effects);
  ASSERT_EQ(applied.size(), 1U);
  EXPECT_EQ(applied[0].staleness, 1.0);
  EXPECT_EQ(round->anchor()[0], 5.0F);
}

// The rounds weight counts staleness in rounds of m versions: a
// contribution less than a round old counts whole, one k rounds old 1/k.
TEST(AnchorRoundTest, RoundsStalenessWeightShrinksContributionsRoundsOld) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.staleness_weight = StalenessWeight::kRounds;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  // Staleness 0 and 1 (within a round of m = 2 versions) count whole.
  round->OnPush(0, Push(1, 0, 0, Filled(4), &bytes));
  EXPECT_EQ(round->anchor()[0], 2.0F);
  round->OnPush(0, Push(0, 0, 0, Filled(8), &bytes));
  EXPECT_EQ(round->anchor()[0], 6.0F);  // (8 + 4) / 2
  round->OnPush(0, Push(1, 1, 2, Filled(6), &bytes));
  EXPECT_EQ(round->anchor()[0], 7.0F);  // (8 + 6) / 2
  // Worker 0 on base v1 lands on v3 (staleness 2, weight 2/3): its 1
  // counts as 7 + (1 − 7)·2/3 = 3, anchor = (3 + 6) / 2.
  const Effects effects = round->OnPush(0, Push(0, 1, 1, Filled(1), &bytes));
  const std::vector<PushApplied> applied = All<PushApplied>(effects);
  ASSERT_EQ(applied.size(), 1U);
  EXPECT_EQ(applied[0].staleness, 2.0);
  EXPECT_FLOAT_EQ(round->anchor()[0], 4.5F);
}

// Relative pushes: the bases past max_staleness are let go, and the state
// that remains still saves and loads.
TEST(AnchorRoundTest, BasesPastMaxStalenessAreLetGo) {
  auto run = [](int64_t max_staleness) {
    AnchorRoundOptions options = AsyncOptions(2);
    options.max_staleness = max_staleness;
    auto round = MakeRound(options, "fp16");
    for (uint32_t id = 0; id < 2; ++id) {
      round->OnJoin(0, Join(*round, id, 1, "overlap-local-sgd"));
    }
    PushEncoder encoder(Algorithm::kOverlapLocalSgd,
                        codec::MakeCodec("fp16", kDim).value());
    std::vector<uint8_t> bytes;
    for (uint64_t n = 0; n < 4; ++n) {
      const std::vector<float> base(round->published()->begin(),
                                    round->published()->end());
      std::vector<float> model = base;
      model[0] += 0.5F;
      EXPECT_TRUE(encoder.Encode(base, model, &bytes).ok());
      const PushRequest request{.worker = 1,
                                .round = n,
                                .base_version = round->published_version(),
                                .codec = "fp16",
                                .payloads = {bytes}};
      EXPECT_TRUE(Has<PushApplied>(round->OnPush(0, request)));
    }
    return round;
  };
  // Worker 0 still holds v0 from its Welcome, 4 versions old: with a bound
  // of 1 only worker 1's last two bases are kept, without one v0 too.
  const auto bounded = run(1);
  const std::vector<uint8_t> state = bounded->Save();
  EXPECT_EQ(run(0)->Save().size() - state.size(),
            kDim * sizeof(float) + 2 * sizeof(uint64_t));
  AnchorRoundOptions options = AsyncOptions(2);
  options.max_staleness = 1;
  EXPECT_TRUE(MakeRound(options, "fp16")->Load(state).ok());
  // A push against v0 is dropped as stale, not refused for its base.
  std::vector<uint8_t> bytes(kDim * 2, 0);
  const Effects effects = bounded->OnPush(0, {.worker = 0,
                                              .round = 0,
                                              .base_version = 0,
                                              .codec = "fp16",
                                              .payloads = {bytes}});
  EXPECT_TRUE(Has<PushStale>(effects));
  EXPECT_FALSE(Has<Refused>(effects));
}

// The second round of codec sketch through the round core: every
// contributor is queried, the anchor is the mean base minus the mean of the
// workers' exact values at the applied coordinates, and the contributors
// learn which coordinates those were.
TEST(AnchorRoundTest, TheSketchRoundQueriesEveryContributor) {
  constexpr int64_t kSketchDim = 2000;
  constexpr int kWorkers = 3;
  codec::CodecOptions options;
  options.topk_fraction = 0.01;  // k = 20, 5 x 200 cells
  options.sketch_seed = 11;
  const auto round =
      MakeRound(SyncOptions(kWorkers), "sketch", options, kSketchDim);
  JoinAll(*round, kWorkers);
  const std::vector<float> base(round->anchor().begin(), round->anchor().end());
  std::vector<PushEncoder> workers;
  std::vector<std::vector<uint8_t>> pushes(kWorkers);
  std::vector<std::vector<float>> deltas(kWorkers);
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0.0F, 0.01F);
  Effects effects;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back(
        Algorithm::kLocalSgd,
        codec::MakeCodec("sketch", kSketchDim, options).value());
    std::vector<float> model(kSketchDim);
    deltas[w].resize(kSketchDim);
    for (int64_t i = 0; i < kSketchDim; ++i) {
      const bool heavy = i >= 100 && i < 120;
      model[i] =
          base[i] - (heavy ? 1.0F + 0.1F * static_cast<float>(w) : noise(rng));
      deltas[w][i] = base[i] - model[i];
    }
    ASSERT_TRUE(workers.back().Encode(base, model, &pushes[w]).ok());
    effects = round->OnPush(0, {.worker = static_cast<uint32_t>(w),
                                .round = 0,
                                .base_version = 0,
                                .codec = "sketch",
                                .payloads = {pushes[w]}});
  }
  const std::vector<Query> queries = All<Query>(effects);
  ASSERT_EQ(queries.size(), static_cast<size_t>(kWorkers));
  // A push during the second round waits for the close.
  EXPECT_TRUE(Has<PushStale>(round->OnPush(
      0,
      {.worker = 0, .round = 0, .codec = "sketch", .payloads = {pushes[0]}})));
  for (const Query& query : queries) {
    std::vector<float> values(query.candidates->size());
    ASSERT_TRUE(workers[query.worker]
                    .codec()
                    .ExactValues(*query.candidates, values)
                    .ok());
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    effects = round->OnValues(
        1, {.worker = query.worker, .round = 0, .payloads = {bytes}});
  }
  const std::vector<AnchorUpdate> anchors = All<AnchorUpdate>(effects);
  ASSERT_EQ(anchors.size(), static_cast<size_t>(kWorkers));
  ASSERT_NE(anchors[0].applied, nullptr);
  const std::vector<uint32_t>& applied = *anchors[0].applied;
  ASSERT_EQ(applied.size(), 20U);
  std::vector<float> expected = base;
  for (const uint32_t i : applied) {
    EXPECT_GE(i, 100U);
    EXPECT_LT(i, 120U);
    double mean = 0;
    for (const auto& delta : deltas) {
      mean += delta[i];
    }
    expected[i] -= static_cast<float>(mean / kWorkers);
  }
  for (int64_t i = 0; i < kSketchDim; ++i) {
    EXPECT_NEAR(round->anchor()[i], expected[i], 1e-5) << i;
  }
  // Values nobody asked for are refused by name.
  std::vector<uint8_t> stray(80);
  const std::vector<Refused> refused = All<Refused>(
      round->OnValues(2, {.worker = 1, .round = 0, .payloads = {stray}}));
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_EQ(refused[0].reason, "unexpected");
}

// A local-sgd worker's global-topk push to `round` in round t: Δ is 1 +
// 0.1 w at the 4 coordinates from 50 + 10 t, small noise elsewhere; its Δ
// goes to *delta.
Effects PushGlobalTopK(AnchorRound& round, PushEncoder& worker, uint32_t w,
                       uint64_t t, std::mt19937_64& rng,
                       std::vector<float>* delta) {
  std::normal_distribution<float> noise(0.0F, 0.01F);
  const std::vector<float> anchor(round.anchor().begin(), round.anchor().end());
  std::vector<float> model(anchor.size());
  delta->assign(anchor.size(), 0.0F);
  const size_t first = 50 + 10 * t;
  for (size_t i = 0; i < anchor.size(); ++i) {
    const bool heavy = i >= first && i < first + 4;
    (*delta)[i] = heavy ? 1.0F + 0.1F * static_cast<float>(w) : noise(rng);
    model[i] = anchor[i] - (*delta)[i];
  }
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(worker.Encode(anchor, model, &bytes).ok());
  return round.OnPush(static_cast<double>(10 * t),
                      {.worker = w,
                       .round = t,
                       .base_version = round.version(),
                       .codec = "global-topk",
                       .payloads = {bytes}});
}

// The exact global top-k control through the round core: no second round;
// the anchor moves by the mean of the workers' exact values at the top k
// of their sum; the contributors learn the applied coordinates, and a
// worker whose push missed the round (closed at its deadline with a
// quorum) does not.
TEST(AnchorRoundTest, TheGlobalTopKRoundTellsItsContributorsWhatItApplied) {
  constexpr int64_t kTopKDim = 400;
  constexpr uint32_t kWorkers = 3;
  AnchorRoundOptions round_options = SyncOptions(kWorkers);
  round_options.round_deadline_seconds = 5;
  round_options.quorum = 0.5;
  codec::CodecOptions options;
  options.topk_fraction = 0.01;  // k = 4
  const auto round = MakeRound(round_options, "global-topk", options, kTopKDim);
  JoinAll(*round, kWorkers);
  std::vector<PushEncoder> workers;
  for (uint32_t w = 0; w < kWorkers; ++w) {
    workers.emplace_back(
        Algorithm::kLocalSgd,
        codec::MakeCodec("global-topk", kTopKDim, options).value());
  }
  std::vector<std::vector<float>> deltas(kWorkers);
  std::mt19937_64 rng(9);
  for (uint64_t t = 0; t < 2; ++t) {
    const std::vector<float> anchor(round->anchor().begin(),
                                    round->anchor().end());
    // Round 1 closes at its deadline without worker 2.
    const uint32_t contributors = t == 0 ? kWorkers : kWorkers - 1;
    Effects effects;
    for (uint32_t w = 0; w < contributors; ++w) {
      effects = PushGlobalTopK(*round, workers[w], w, t, rng, &deltas[w]);
      EXPECT_FALSE(Has<Query>(effects));
      EXPECT_FALSE(Has<Refused>(effects));
    }
    if (t == 1) effects = round->OnTick(16);
    const std::vector<AnchorUpdate> anchors = All<AnchorUpdate>(effects);
    ASSERT_EQ(anchors.size(), static_cast<size_t>(kWorkers)) << "round " << t;
    const auto first = static_cast<uint32_t>(50 + 10 * t);
    const std::vector<uint32_t> heavy = {first, first + 1, first + 2,
                                         first + 3};
    // The contributors' v there: this round's Δ plus what earlier rounds
    // left.
    std::vector<double> mean(heavy.size(), 0.0);
    for (uint32_t w = 0; w < contributors; ++w) {
      std::vector<float> v(heavy.size());
      ASSERT_TRUE(workers[w].codec().ExactValues(heavy, v).ok());
      for (size_t n = 0; n < heavy.size(); ++n) {
        EXPECT_NEAR(v[n], deltas[w][heavy[n]], 0.05);
        mean[n] += static_cast<double>(v[n]) / contributors;
      }
    }
    for (size_t n = 0; n < heavy.size(); ++n) {
      EXPECT_NEAR(round->anchor()[heavy[n]], anchor[heavy[n]] - mean[n], 1e-5);
    }
    EXPECT_EQ(round->anchor()[0], anchor[0]);  // not applied: unchanged
    for (const AnchorUpdate& update : anchors) {
      if (update.worker >= contributors) {
        EXPECT_EQ(update.applied, nullptr);
        continue;
      }
      ASSERT_NE(update.applied, nullptr) << "worker " << update.worker;
      EXPECT_EQ(*update.applied, heavy);
      ASSERT_TRUE(workers[update.worker].codec().Applied(heavy).ok());
    }
  }
}

// The sketch round's second half has its own deadline: a contributor that
// never answers does not stall the round.
TEST(AnchorRoundTest, AnUnansweredQueryClosesAtTheDeadline) {
  AnchorRoundOptions round_options = SyncOptions(2);
  round_options.round_deadline_seconds = 5;
  codec::CodecOptions options;
  options.topk_fraction = 0.05;
  const auto round = MakeRound(round_options, "sketch", options, 200);
  JoinAll(*round, 2);
  PushEncoder encoder(Algorithm::kLocalSgd,
                      codec::MakeCodec("sketch", 200, options).value());
  const std::vector<float> base = Filled(0, 200);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(encoder.Encode(base, Filled(-1, 200), &bytes).ok());
  Effects effects;
  for (uint32_t id = 0; id < 2; ++id) {
    effects = round->OnPush(
        10, {.worker = id, .codec = "sketch", .payloads = {bytes}});
  }
  ASSERT_EQ(All<Query>(effects).size(), 2U);
  EXPECT_FALSE(Has<AnchorUpdate>(round->OnTick(14)));
  EXPECT_EQ(All<AnchorUpdate>(round->OnTick(15.5)).size(), 2U);
  EXPECT_EQ(round->version(), 1U);
}

// The outer rule uses γ_t of the round: minibatch SGD's anchor moves by
// −γ_t·ḡ with the step decay applied at round 2 (τ = 5, decay at step 10).
TEST(AnchorRoundTest, TheOuterRuleUsesTheLearningRateOfTheRound) {
  AnchorRoundOptions options = SyncOptions(1);
  options.algorithm = Algorithm::kMinibatchSgd;
  options.aggregator.outer.algorithm = Algorithm::kMinibatchSgd;
  options.local_steps = 5;
  options.schedule = {.lr = 0.5F, .decay_steps = {10}, .decay_factor = 0.1F};
  const auto round = MakeRound(options);
  round->OnJoin(0, Join(*round, 0, 1, "minibatch-sgd"));
  EXPECT_DOUBLE_EQ(round->LearningRateOfRound(1), 0.5);
  EXPECT_NEAR(round->LearningRateOfRound(2), 0.05, 1e-9);
  std::vector<uint8_t> bytes;
  float expected = 0;
  for (uint64_t t = 0; t < 3; ++t) {
    round->OnPush(0, Push(0, t, t, Filled(1), &bytes));
    expected -= static_cast<float>(round->LearningRateOfRound(t));
    EXPECT_FLOAT_EQ(round->anchor()[0], expected) << "round " << t;
  }
}

// FetchSGD's error sketch holds displacements of the model: what a round
// leaves unapplied moves the anchor later at the learning rate of the round
// it came from. One worker, k = 1, rho = 0, γ = 0.5 then 0.05 (a decay
// after round 0). Round 0's gradient is 4 at coordinate 3 and 1 at 7:
// coordinate 3 moves by 0.5 · 4 and 7's 0.5 · 1 stays in the error. Round 1
// brings a zero gradient and applies 7 by 0.5, not by 0.05 · 1. Minibatch
// SGD sends the gradient and the round core supplies γ_t; Local SGD's
// pseudo-gradient base − x = γ_t g carries it already; both runs move the
// anchor alike. The sketch, 5 x 1000 for two nonzero coordinates, estimates
// them exactly.
TEST(AnchorRoundTest, FetchSgdAppliesItsErrorAtTheRateItAccrued) {
  codec::CodecOptions codec_options;
  codec_options.topk_fraction = 1.0 / kDim;  // k = 1
  codec_options.sketch_columns = 1000;
  codec_options.sketch_seed = 3;
  for (const Algorithm algorithm :
       {Algorithm::kMinibatchSgd, Algorithm::kLocalSgd}) {
    const std::string name(AlgorithmName(algorithm));
    AnchorRoundOptions options = SyncOptions(1);
    options.algorithm = algorithm;
    options.aggregator.outer.algorithm = algorithm;
    options.schedule = {.lr = 0.5F, .decay_steps = {1}, .decay_factor = 0.1F};
    const auto round = MakeRound(options, "fetchsgd", codec_options);
    ASSERT_EQ(All<Welcome>(round->OnJoin(0, Join(*round, 0, 1, name))).size(),
              1U);
    PushEncoder encoder(
        algorithm, codec::MakeCodec("fetchsgd", kDim, codec_options).value());
    std::vector<float> gradients[2] = {Filled(0), Filled(0)};
    gradients[0][3] = 4;
    gradients[0][7] = 1;
    const float expected[2][2] = {{-2, 0}, {-2, -0.5F}};  // at 3 and 7
    for (uint64_t t = 0; t < 2; ++t) {
      const std::vector<float> base(round->anchor().begin(),
                                    round->anchor().end());
      // Local SGD's model after one step of γ_t from the base.
      std::vector<float> model = base;
      const auto lr = static_cast<float>(round->LearningRateOfRound(t));
      for (int64_t i = 0; i < kDim; ++i) {
        model[i] -= lr * gradients[t][i];
      }
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(encoder
                      .Encode(base,
                              algorithm == Algorithm::kMinibatchSgd
                                  ? gradients[t]
                                  : model,
                              &bytes)
                      .ok());
      const Effects effects = round->OnPush(0, {.worker = 0,
                                                .round = t,
                                                .base_version = t,
                                                .codec = "fetchsgd",
                                                .payloads = {bytes}});
      ASSERT_EQ(All<AnchorUpdate>(effects).size(), 1U) << name;
      EXPECT_NEAR(round->anchor()[3], expected[t][0], 1e-6) << name << t;
      EXPECT_NEAR(round->anchor()[7], expected[t][1], 1e-6) << name << t;
      for (const int64_t i : {0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15}) {
        EXPECT_EQ(round->anchor()[i], 0.0F) << name << t << " " << i;
      }
    }
  }
}

TEST(AnchorRoundTest, TheBudgetFinishesOnce) {
  AnchorRoundOptions options = SyncOptions(1);
  options.max_versions = 0;
  options.examples_per_epoch = 100;
  options.epochs = 1;
  const auto round = MakeRound(options);
  JoinAll(*round, 1);
  std::vector<uint8_t> bytes;
  EXPECT_FALSE(
      Has<Finished>(round->OnPush(0, Push(0, 0, 0, Filled(1), &bytes, 60))));
  const std::vector<Finished> finished =
      All<Finished>(round->OnPush(0, Push(0, 1, 1, Filled(1), &bytes, 60)));
  ASSERT_EQ(finished.size(), 1U);
  EXPECT_NE(finished[0].reason.find("epochs"), std::string::npos);
  EXPECT_TRUE(round->finished());
  EXPECT_FALSE(
      Has<Finished>(round->OnPush(0, Push(0, 2, 2, Filled(1), &bytes, 60))));
  EXPECT_DOUBLE_EQ(round->stats().epochs, 1.8);
}

TEST(AnchorRoundTest, WorkerReportsAreAveragedIntoTheStats) {
  AnchorRoundOptions options = AsyncOptions(2);
  options.local_steps = 2;
  options.batch_size = 15;
  const auto round = JoinedAsyncRound(options);
  std::vector<uint8_t> bytes;
  PushRequest first = Push(0, 0, 0, Filled(1), &bytes);
  first.report = {.samples = 10,
                  .local_steps = 2,
                  .train_loss = 1.0F,
                  .compute_seconds = 4,
                  .sync_wait_seconds = 1,
                  .quantized_pushes = 3,
                  .quantization_bits_sum = 12};
  round->OnPush(0, first);
  PushRequest second = Push(1, 0, 0, Filled(1), &bytes);
  second.report = {.samples = 30,
                   .local_steps = 2,
                   .train_loss = 3.0F,
                   .compute_seconds = 2,
                   .sync_wait_seconds = 0,
                   .quantized_pushes = 1,
                   .quantization_bits_sum = 6};
  round->OnPush(0, second);
  const RoundStats stats = round->stats();
  EXPECT_EQ(stats.samples, 40);
  EXPECT_DOUBLE_EQ(stats.compute_seconds_mean, 3.0);
  EXPECT_DOUBLE_EQ(stats.sync_wait_seconds_mean, 0.5);
  EXPECT_DOUBLE_EQ(stats.train_loss, 2.0);
  // Pooled over the pushes: (12 + 6) / (3 + 1), not the workers' 4 and 6.
  EXPECT_DOUBLE_EQ(stats.quantization_bits_mean, 4.5);
  EXPECT_EQ(stats.raw_bytes_up, 2 * kDim * 4);
}

constexpr int kStateWorkers = 3;
constexpr int64_t kStateDim = 400;

// Fresh worker-side encoders: every continuation starts its workers' error
// feedback from the same state.
std::vector<PushEncoder> StateEncoders(const std::string& codec,
                                       const codec::CodecOptions& options) {
  std::vector<PushEncoder> encoders;
  encoders.reserve(kStateWorkers);
  for (int w = 0; w < kStateWorkers; ++w) {
    encoders.emplace_back(Algorithm::kSlowMo,
                          codec::MakeCodec(codec, kStateDim, options).value());
  }
  return encoders;
}

// Answers a round's queries from the workers' codecs and returns the
// effects of the last answer.
Effects Answer(AnchorRound& round, std::vector<PushEncoder>& workers,
               uint64_t t, Effects effects) {
  for (const Query& query : All<Query>(effects)) {
    std::vector<float> values(query.candidates->size());
    EXPECT_TRUE(workers[query.worker]
                    .codec()
                    .ExactValues(*query.candidates, values)
                    .ok());
    std::vector<uint8_t> answer(values.size() * sizeof(float));
    std::memcpy(answer.data(), values.data(), answer.size());
    effects = round.OnValues(
        static_cast<double>(t),
        {.worker = query.worker, .round = t, .payloads = {answer}});
  }
  return effects;
}

// Rounds [from, to) of SlowMo: every worker pushes a random step from the
// anchor (answering the sketch's queries), in a fixed order. Returns the
// anchor after each round.
std::vector<std::vector<float>> DriveRounds(AnchorRound& round,
                                            std::vector<PushEncoder>& workers,
                                            const std::string& codec,
                                            uint64_t from, uint64_t to,
                                            std::mt19937 stream) {
  std::normal_distribution<float> normal(0.0F, 1.0F);
  std::vector<std::vector<float>> anchors;
  for (uint64_t t = from; t < to; ++t) {
    Effects effects;
    std::vector<std::vector<uint8_t>> bytes(kStateWorkers);
    const std::vector<float> base(round.anchor().begin(), round.anchor().end());
    for (uint32_t w = 0; w < kStateWorkers; ++w) {
      std::vector<float> model = base;
      for (float& x : model) {
        x += 0.1F * normal(stream);
      }
      EXPECT_TRUE(workers[w].Encode(base, model, &bytes[w]).ok());
      effects =
          round.OnPush(static_cast<double>(t), {.worker = w,
                                                .round = t,
                                                .base_version = round.version(),
                                                .codec = codec,
                                                .payloads = {bytes[w]}});
    }
    effects = Answer(round, workers, t, std::move(effects));
    for (const AnchorUpdate& update : All<AnchorUpdate>(effects)) {
      if (update.applied != nullptr) {
        EXPECT_TRUE(
            workers[update.worker].codec().Applied(*update.applied).ok());
      }
    }
    anchors.emplace_back(round.anchor().begin(), round.anchor().end());
  }
  return anchors;
}

// Two rounds, a save, then two more rounds through the original and
// through a round restored from the saved state: the same anchors, bit for
// bit. Lossy codecs keep error feedback in the workers, so both
// continuations start from fresh worker codecs and only the server's state
// differs in where it came from.
TEST(AnchorRoundStateTest, ARestoredRoundContinuesBitForBit) {
  for (const std::string codec : {"dense", "topk", "sketch", "global-topk"}) {
    SCOPED_TRACE(codec);
    codec::CodecOptions options;
    options.topk_fraction = 0.1;
    AnchorRoundOptions round_options = SyncOptions(kStateWorkers);
    round_options.algorithm = Algorithm::kSlowMo;
    round_options.aggregator.outer = {
        .algorithm = Algorithm::kSlowMo, .alpha = 1.0, .beta = 0.5};
    const auto original = MakeRound(round_options, codec, options, kStateDim);
    for (uint32_t id = 0; id < kStateWorkers; ++id) {
      original->OnJoin(0, Join(*original, id, 1, "slowmo"));
    }
    std::mt19937 rng(3);
    std::vector<PushEncoder> encoders = StateEncoders(codec, options);
    DriveRounds(*original, encoders, codec, 0, 2, std::mt19937(rng()));

    const std::vector<uint8_t> state = original->Save();
    const auto restored = MakeRound(round_options, codec, options, kStateDim);
    ASSERT_TRUE(restored->Load(state).ok());
    EXPECT_EQ(restored->Save(), state);
    EXPECT_EQ(restored->version(), original->version());
    EXPECT_EQ(restored->stats().pushes_applied,
              original->stats().pushes_applied);

    const std::mt19937 stream(rng());
    std::vector<PushEncoder> first = StateEncoders(codec, options);
    std::vector<PushEncoder> second = StateEncoders(codec, options);
    const auto continued = DriveRounds(*original, first, codec, 2, 4, stream);
    EXPECT_EQ(continued.size(), 2U);
    EXPECT_EQ(continued, DriveRounds(*restored, second, codec, 2, 4, stream));
  }
}

TEST(AnchorRoundStateTest, LoadRefusesCorruptOrForeignState) {
  const auto round = MakeRound(SyncOptions(2));
  JoinAll(*round, 2);
  std::vector<uint8_t> state = round->Save();
  const auto other = MakeRound(SyncOptions(2));
  std::vector<uint8_t> truncated(state.begin(), state.end() - 3);
  EXPECT_EQ(other->Load(truncated).code(), Status::Code::kDataLoss);
  std::vector<uint8_t> bad_magic = state;
  bad_magic[0] ^= 0xff;
  const Status magic = other->Load(bad_magic);
  EXPECT_NE(magic.message().find("magic"), std::string::npos);
  const auto wider = MakeRound(SyncOptions(2), "dense", {}, kDim * 2);
  EXPECT_FALSE(wider->Load(state).ok());
  const auto fewer = MakeRound(SyncOptions(1));
  EXPECT_FALSE(fewer->Load(state).ok());
}

}  // namespace
}  // namespace anchorage::algo
