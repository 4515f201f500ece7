// The worker's side of the round: what to do after each compute and each
// arriving anchor, for overlapped and blocking algorithms, and the resync
// after a second Welcome.
#include "common/algo/worker_sync.h"

#include <gtest/gtest.h>

namespace anchorage::algo {
namespace {

using Action = WorkerSync::Action;

AnchorHeader Welcome(uint64_t version, uint64_t next_round) {
  return {.version = version, .next_round = next_round, .welcome = true};
}

AnchorHeader Anchor(uint64_t version, uint64_t next_round) {
  return {.version = version, .next_round = next_round};
}

// Does what Next() says while it is `action`, and checks it was.
void Expect(WorkerSync& sync, Action action) {
  ASSERT_EQ(sync.Next(), action);
  sync.Done(action);
}

TEST(WorkerSyncTest, NothingHappensBeforeTheFirstWelcome) {
  WorkerSync sync(/*overlapped=*/true);
  EXPECT_EQ(sync.Next(), Action::kWait);
  EXPECT_FALSE(sync.Offer(Anchor(3, 1)));
  EXPECT_FALSE(sync.joined());
  EXPECT_TRUE(sync.Offer(Welcome(7, 2)));
  EXPECT_TRUE(sync.joined());
  EXPECT_EQ(sync.round(), 2U);
  EXPECT_EQ(sync.base_version(), 7U);
  Expect(sync, Action::kStart);
  EXPECT_EQ(sync.Next(), Action::kCompute);
}

// Overlap: the pull at the end of round t uses the anchor that allows round
// t (answering round t − 1); the worker waits only when it is late.
TEST(WorkerSyncTest, OverlappedPushesWithoutWaitingWhenTheAnchorIsThere) {
  WorkerSync sync(true);
  sync.Offer(Welcome(0, 0));
  Expect(sync, Action::kStart);
  Expect(sync, Action::kCompute);
  Expect(sync, Action::kPullAndPush);  // round 0 needs only the Welcome
  EXPECT_EQ(sync.round(), 1U);
  Expect(sync, Action::kCompute);
  // Round 1 needs the answer to round 0.
  EXPECT_EQ(sync.Next(), Action::kWait);
  EXPECT_TRUE(sync.Offer(Anchor(4, 1)));
  EXPECT_EQ(sync.base_version(), 4U);
  Expect(sync, Action::kPullAndPush);
  Expect(sync, Action::kCompute);
  // The answer to round 1 came while computing: no wait.
  sync.Offer(Anchor(9, 2));
  Expect(sync, Action::kPullAndPush);
  EXPECT_EQ(sync.rounds_completed(), 3);
}

TEST(WorkerSyncTest, BlockingPushesThenWaitsForItsRoundsAnchor) {
  WorkerSync sync(false);
  sync.Offer(Welcome(0, 0));
  Expect(sync, Action::kStart);
  Expect(sync, Action::kCompute);
  Expect(sync, Action::kPush);
  EXPECT_EQ(sync.Next(), Action::kWait);
  // An anchor that does not complete round 0 (another round's catch-up).
  sync.Offer(Anchor(0, 0));
  EXPECT_EQ(sync.Next(), Action::kWait);
  sync.Offer(Anchor(1, 1));
  Expect(sync, Action::kAdopt);
  EXPECT_EQ(sync.round(), 1U);
  EXPECT_EQ(sync.base_version(), 1U);
  EXPECT_EQ(sync.Next(), Action::kCompute);
}

TEST(WorkerSyncTest, AnOlderAnchorIsDropped) {
  WorkerSync sync(true);
  sync.Offer(Welcome(5, 3));
  EXPECT_FALSE(sync.Offer(Anchor(4, 3)));
  EXPECT_EQ(sync.base_version(), 5U);
  // A newer round with an older version still moves the round on.
  EXPECT_TRUE(sync.Offer(Anchor(4, 4)));
  EXPECT_TRUE(sync.Offer(Anchor(6, 2)));
  EXPECT_EQ(sync.base_version(), 6U);
  // ... and never moves it back.
  sync.Done(Action::kStart);
  sync.Done(Action::kCompute);
  EXPECT_EQ(sync.Next(), Action::kPullAndPush);
}

// The run's progress the anchors report only grows: a reply to an old push
// that arrives late does not take a worker's schedule back.
TEST(WorkerSyncTest, TheScheduleStepIsTheFurthestReported) {
  WorkerSync sync(true);
  AnchorHeader welcome = Welcome(1, 0);
  welcome.schedule_step = 4;
  sync.Offer(welcome);
  EXPECT_EQ(sync.schedule_step(), 4U);
  AnchorHeader anchor = Anchor(3, 1);
  anchor.schedule_step = 10;
  sync.Offer(anchor);
  EXPECT_EQ(sync.schedule_step(), 10U);
  anchor = Anchor(2, 2);
  anchor.schedule_step = 6;
  sync.Offer(anchor);
  EXPECT_EQ(sync.schedule_step(), 10U);
}

TEST(WorkerSyncTest, ASecondWelcomeResyncsAnOverlappedWorkerToTheServersRound) {
  WorkerSync sync(true);
  sync.Offer(Welcome(0, 0));
  Expect(sync, Action::kStart);
  Expect(sync, Action::kCompute);
  Expect(sync, Action::kPullAndPush);
  Expect(sync, Action::kCompute);
  ASSERT_EQ(sync.Next(), Action::kWait);  // its answer was lost
  sync.Offer(Welcome(40, 12));
  EXPECT_EQ(sync.round(), 12U);
  Expect(sync, Action::kPullAndPush);  // keeps its model, pulls, pushes 12
  EXPECT_EQ(sync.round(), 13U);
}

TEST(WorkerSyncTest, ASecondWelcomeRestartsABlockingWorkerFromIt) {
  WorkerSync sync(false);
  sync.Offer(Welcome(0, 0));
  Expect(sync, Action::kStart);
  Expect(sync, Action::kCompute);
  Expect(sync, Action::kPush);
  ASSERT_EQ(sync.Next(), Action::kWait);
  sync.Offer(Welcome(8, 5));
  Expect(sync, Action::kStart);
  EXPECT_EQ(sync.round(), 5U);
  Expect(sync, Action::kCompute);
  Expect(sync, Action::kPush);
  // Welcomed again while computing: the round's steps are not pushed.
  WorkerSync computing(false);
  computing.Offer(Welcome(0, 0));
  Expect(computing, Action::kStart);
  computing.Offer(Welcome(3, 2));
  Expect(computing, Action::kCompute);
  Expect(computing, Action::kStart);
  EXPECT_EQ(computing.round(), 2U);
}

TEST(WorkerSyncDeathTest, DoingSomethingElseThanAskedIsABug) {
  WorkerSync sync(true);
  sync.Offer(Welcome(0, 0));
  EXPECT_DEATH(sync.Done(Action::kPush), "did what it did not ask");
}

}  // namespace
}  // namespace anchorage::algo
