// The share of Error replies and log lines a connection's refusals get
// (refusal_limiter.h), on a hand-driven clock.
#include "server/refusal_limiter.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace anchorage::server {
namespace {

using Clock = RefusalLimiter::Clock;
using std::chrono::milliseconds;

int Allowed(RefusalLimiter& limiter, const std::string& peer, int tries,
            Clock::time_point now) {
  int allowed = 0;
  for (int n = 0; n < tries; ++n) {
    allowed += limiter.AllowReply(peer, now);
  }
  return allowed;
}

TEST(RefusalLimiterTest, AConnectionGetsABurstThenTenRepliesASecond) {
  RefusalLimiter limiter;
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(Allowed(limiter, "noisy", 1000, start),
            static_cast<int>(RefusalLimiter::kBurst));
  EXPECT_EQ(Allowed(limiter, "noisy", 1000, start + milliseconds(500)), 5);
  // Another connection has its own share.
  EXPECT_EQ(Allowed(limiter, "quiet", 1, start + milliseconds(500)), 1);
}

TEST(RefusalLimiterTest, TheLogShowsTheFirstOfEachReasonThenASummary) {
  RefusalLimiter limiter;
  EXPECT_TRUE(limiter.AllowLog("verify"));
  EXPECT_FALSE(limiter.AllowLog("verify"));
  EXPECT_FALSE(limiter.AllowLog("verify"));
  EXPECT_TRUE(limiter.AllowLog("update_norm"));
  EXPECT_EQ(limiter.EndInterval(Clock::now()), "2 (verify)");
  EXPECT_TRUE(limiter.AllowLog("verify"));  // a new interval
  EXPECT_EQ(limiter.EndInterval(Clock::now()), "");
}

TEST(RefusalLimiterTest, ConnectionsAreForgottenOnceIdleAndCapped) {
  RefusalLimiter limiter;
  const Clock::time_point start = Clock::now();
  for (size_t n = 0; n < RefusalLimiter::kMaxConnections; ++n) {
    ASSERT_TRUE(limiter.AllowReply("peer" + std::to_string(n), start));
  }
  EXPECT_FALSE(limiter.AllowReply("one-too-many", start));
  // Ten seconds on, every budget is full again and forgotten.
  limiter.EndInterval(start + std::chrono::seconds(10));
  EXPECT_TRUE(limiter.AllowReply("one-too-many", start));
}

}  // namespace
}  // namespace anchorage::server
