// Assembling a sharded service's anchors: the whole model once every shard
// has sent its slice, a round complete only when every shard has answered
// it, a restarted shard's welcome resyncing the worker to its round, and
// the run done when every shard has said so.
#include "worker/shard_assembler.h"

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::worker {
namespace {

// Two shards over a 5-parameter model: [0, 3) and [3, 5).
ShardAssembler TwoShards() {
  return ShardAssembler(algo::Slices(5, 2));
}

std::unique_ptr<Delivery> Anchor(uint64_t version, uint64_t next_round,
                                 std::vector<float> slice,
                                 bool welcome = false) {
  auto delivery = std::make_unique<Delivery>();
  delivery->header = {.version = version,
                      .next_round = next_round,
                      .schedule_step = version * 10,
                      .welcome = welcome};
  delivery->anchor = std::move(slice);
  return delivery;
}

std::unique_ptr<Delivery> Done(bool completed) {
  auto delivery = std::make_unique<Delivery>();
  delivery->kind = Delivery::Kind::kDone;
  delivery->completed = completed;
  delivery->text = "budget";
  return delivery;
}

TEST(ShardAssemblerTest, TheWholeModelOnceEveryShardHasWelcomed) {
  ShardAssembler assembler = TwoShards();
  EXPECT_EQ(assembler.Offer(1, Anchor(4, 2, {4, 5}, true)), nullptr);
  const std::unique_ptr<Delivery> whole =
      assembler.Offer(0, Anchor(3, 1, {1, 2, 3}, true));
  ASSERT_NE(whole, nullptr);
  EXPECT_EQ(whole->kind, Delivery::Kind::kAnchor);
  EXPECT_EQ(whole->anchor, (std::vector<float>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(whole->header.welcome);
  EXPECT_EQ(whole->header.next_round, 1U);  // the smallest
  EXPECT_EQ(whole->header.version, 4U);     // the largest
  EXPECT_EQ(whole->header.schedule_step, 40U);
  // Each push slice names its own shard's anchor as its base.
  ASSERT_EQ(whole->parts.size(), 2U);
  EXPECT_EQ(whole->parts[0]->header.version, 3U);
  EXPECT_EQ(whole->parts[1]->anchor, (std::vector<float>{4, 5}));
}

TEST(ShardAssemblerTest, ARoundIsCompleteWhenEveryShardHasAnsweredIt) {
  ShardAssembler assembler = TwoShards();
  assembler.Offer(0, Anchor(0, 0, {0, 0, 0}, true));
  ASSERT_NE(assembler.Offer(1, Anchor(0, 0, {0, 0}, true)), nullptr);
  EXPECT_EQ(assembler.Offer(1, Anchor(1, 1, {7, 7})), nullptr);
  const std::unique_ptr<Delivery> round =
      assembler.Offer(0, Anchor(1, 1, {6, 6, 6}));
  ASSERT_NE(round, nullptr);
  EXPECT_FALSE(round->header.welcome);
  EXPECT_EQ(round->header.next_round, 1U);
  EXPECT_EQ(round->anchor, (std::vector<float>{6, 6, 6, 7, 7}));
  // An answer that does not move the round on (a stale push's) waits.
  EXPECT_EQ(assembler.Offer(0, Anchor(1, 1, {6, 6, 6})), nullptr);
}

TEST(ShardAssemblerTest, ARestartedShardResyncsTheWorkerToItsRound) {
  ShardAssembler assembler = TwoShards();
  assembler.Offer(0, Anchor(0, 0, {0, 0, 0}, true));
  assembler.Offer(1, Anchor(0, 0, {0, 0}, true));
  assembler.Offer(0, Anchor(5, 5, {1, 1, 1}));
  ASSERT_NE(assembler.Offer(1, Anchor(5, 5, {2, 2})), nullptr);
  // Shard 1 restarted from a checkpoint three rounds back.
  const std::unique_ptr<Delivery> resync =
      assembler.Offer(1, Anchor(2, 2, {9, 9}, true));
  ASSERT_NE(resync, nullptr);
  EXPECT_TRUE(resync->header.welcome);
  EXPECT_EQ(resync->header.next_round, 2U);
  EXPECT_EQ(resync->anchor, (std::vector<float>{1, 1, 1, 9, 9}));
  // Shard 0 answers the replayed round as stale, unchanged; shard 1's
  // answer moves the round on.
  EXPECT_EQ(assembler.Offer(0, Anchor(5, 5, {1, 1, 1})), nullptr);
  const std::unique_ptr<Delivery> caught_up =
      assembler.Offer(1, Anchor(3, 3, {8, 8}));
  ASSERT_NE(caught_up, nullptr);
  EXPECT_EQ(caught_up->header.next_round, 3U);
}

TEST(ShardAssemblerTest, TheRunIsDoneWhenEveryShardSaysSo) {
  ShardAssembler assembler = TwoShards();
  assembler.Offer(0, Anchor(0, 0, {0, 0, 0}, true));
  assembler.Offer(1, Anchor(0, 0, {0, 0}, true));
  assembler.Offer(1, Anchor(3, 3, {2, 2}));
  // Shard 0 completed: it no longer holds the round back, and the worker
  // goes on for shard 1.
  const std::unique_ptr<Delivery> freed = assembler.Offer(0, Done(true));
  ASSERT_NE(freed, nullptr);
  EXPECT_EQ(freed->kind, Delivery::Kind::kAnchor);
  EXPECT_EQ(freed->header.next_round, 3U);
  EXPECT_TRUE(assembler.done(0));
  EXPECT_FALSE(assembler.done(1));
  const std::unique_ptr<Delivery> done = assembler.Offer(1, Done(true));
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->kind, Delivery::Kind::kDone);
  EXPECT_TRUE(done->completed);
}

TEST(ShardAssemblerTest, AStopOrAFailureOfOneShardEndsTheRunAtOnce) {
  ShardAssembler assembler = TwoShards();
  const std::unique_ptr<Delivery> stopped = assembler.Offer(1, Done(false));
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->kind, Delivery::Kind::kDone);
  EXPECT_FALSE(stopped->completed);
  auto fatal = std::make_unique<Delivery>();
  fatal->kind = Delivery::Kind::kFatal;
  EXPECT_NE(assembler.Offer(0, std::move(fatal)), nullptr);
}

TEST(ShardAssemblerTest, ASliceOfTheWrongSizeIsFatal) {
  ShardAssembler assembler = TwoShards();
  const std::unique_ptr<Delivery> bad =
      assembler.Offer(1, Anchor(0, 0, {1, 2, 3}, true));
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->kind, Delivery::Kind::kFatal);
  EXPECT_NE(bad->text.find("shard 1"), std::string::npos) << bad->text;
}

}  // namespace
}  // namespace anchorage::worker
