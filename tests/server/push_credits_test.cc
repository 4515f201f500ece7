#include "server/push_credits.h"

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::server {
namespace {

using Clock = PushCredits::Clock;
using std::chrono::seconds;

std::vector<std::pair<uint32_t, uint64_t>> Pairs(
    const std::vector<PushCredits::Grant>& grants) {
  std::vector<std::pair<uint32_t, uint64_t>> pairs;
  pairs.reserve(grants.size());
  for (const PushCredits::Grant& grant : grants) {
    pairs.emplace_back(grant.worker, grant.round);
  }
  return pairs;
}

using Expected = std::vector<std::pair<uint32_t, uint64_t>>;

TEST(PushCreditsTest, GrantsAtMostTheLimitAndPassesCreditsOnInOrder) {
  PushCredits credits(2, seconds(10));
  const Clock::time_point now{};
  EXPECT_EQ(Pairs(credits.Ask(0, 5, now)), (Expected{{0, 5}}));
  EXPECT_EQ(Pairs(credits.Ask(1, 5, now)), (Expected{{1, 5}}));
  EXPECT_TRUE(credits.Ask(2, 5, now).empty());
  EXPECT_TRUE(credits.Ask(3, 6, now).empty());
  EXPECT_EQ(credits.granted(), 2U);
  EXPECT_EQ(credits.waiting(), 2U);
  EXPECT_TRUE(credits.Holds(1));
  EXPECT_FALSE(credits.Holds(2));
  // Worker 1's push arrives first: worker 2, first in line, is next.
  EXPECT_EQ(Pairs(credits.Release(1, 5, now)), (Expected{{2, 5}}));
  EXPECT_FALSE(credits.Holds(1));
  EXPECT_EQ(Pairs(credits.Release(0, 5, now)), (Expected{{3, 6}}));
  EXPECT_EQ(credits.waiting(), 0U);
}

TEST(PushCreditsTest, AskingAgainIsHarmless) {
  PushCredits credits(1, seconds(10));
  const Clock::time_point now{};
  EXPECT_EQ(Pairs(credits.Ask(0, 1, now)), (Expected{{0, 1}}));
  // The grant may have been lost: a holder asking again is granted again,
  // and no second credit is taken.
  EXPECT_EQ(Pairs(credits.Ask(0, 1, now)), (Expected{{0, 1}}));
  EXPECT_TRUE(credits.Ask(1, 1, now).empty());
  EXPECT_TRUE(credits.Ask(1, 1, now).empty());
  EXPECT_EQ(credits.granted(), 1U);
  EXPECT_EQ(credits.waiting(), 1U);
  EXPECT_EQ(Pairs(credits.Release(0, 1, now)), (Expected{{1, 1}}));
  // A late copy of worker 0's ask for the round it pushed takes nothing.
  EXPECT_TRUE(credits.Ask(0, 1, now).empty());
  EXPECT_EQ(credits.waiting(), 0U);
  EXPECT_EQ(Pairs(credits.Release(1, 1, now)), Expected{});
  EXPECT_EQ(Pairs(credits.Ask(0, 2, now)), (Expected{{0, 2}}));
}

TEST(PushCreditsTest, AWorkerThatGoesAwayGivesItsCreditAndPlaceBack) {
  PushCredits credits(1, seconds(10));
  const Clock::time_point now{};
  credits.Ask(0, 3, now);
  credits.Ask(1, 3, now);
  credits.Ask(2, 3, now);
  // Worker 1 leaves while in line, worker 0 while holding the credit.
  EXPECT_TRUE(credits.Forget(1, now).empty());
  EXPECT_EQ(Pairs(credits.Forget(0, now)), (Expected{{2, 3}}));
  // Worker 0 rejoined and starts again from an earlier round.
  EXPECT_TRUE(credits.Ask(0, 1, now).empty());
  EXPECT_EQ(credits.waiting(), 1U);
}

TEST(PushCreditsTest, AnUnusedGrantIsTakenBackAfterTheExpiry) {
  PushCredits credits(1, seconds(10));
  const Clock::time_point start{};
  credits.Ask(0, 1, start);
  credits.Ask(1, 1, start);
  EXPECT_TRUE(credits.Expire(start + seconds(10)).empty());
  EXPECT_EQ(Pairs(credits.Expire(start + seconds(11))), (Expected{{1, 1}}));
  EXPECT_FALSE(credits.Holds(0));
  EXPECT_TRUE(credits.Holds(1));
}

TEST(PushCreditsTest, WithoutALimitNothingIsCounted) {
  PushCredits credits(0, seconds(10));
  const Clock::time_point now{};
  EXPECT_FALSE(credits.enabled());
  EXPECT_TRUE(PushCredits(1, seconds(10)).enabled());
  // Every worker may push, and asking grants or queues nothing.
  EXPECT_TRUE(credits.Holds(0));
  EXPECT_TRUE(credits.Ask(0, 1, now).empty());
  EXPECT_TRUE(credits.Release(0, 1, now).empty());
  EXPECT_EQ(credits.waiting(), 0U);
  EXPECT_EQ(credits.granted(), 0U);
  EXPECT_TRUE(credits.Holds(1));
}

}  // namespace
}  // namespace anchorage::server
