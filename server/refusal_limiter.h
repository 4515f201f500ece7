// What the server does with the messages it refuses, so a flood of them
// costs neither the socket nor the log (DESIGN.md section 10): every
// refusal is counted by the caller, but
//   - a connection gets at most kRepliesPerSecond Error replies, after a
//     burst of kBurst; past that it is not answered;
//   - the log shows the first refusal of each reason in an interval in
//     full; the rest are counted, and one line per interval sums them up.
// At most kMaxConnections connections are tracked: a new one beyond them
// is not answered until idle ones are forgotten (at each summary).
//
// Not thread-safe: owned by the serving loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

namespace anchorage::server {

class RefusalLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kRepliesPerSecond = 10;
  static constexpr double kBurst = 20;
  static constexpr size_t kMaxConnections = 4096;

  // Whether to answer the connection `routing_id` with an Error now.
  bool AllowReply(const std::string& routing_id, Clock::time_point now);
  // Whether to log a refusal for `reason` in full; otherwise it is counted
  // for the interval's summary.
  bool AllowLog(const std::string& reason);
  // Ends the interval: the refusals not logged in full, as
  // "N (reason), M (reason)", or empty when there were none. Forgets
  // connections whose reply budget is full again.
  std::string EndInterval(Clock::time_point now);

 private:
  struct Budget {
    double tokens = kBurst;
    Clock::time_point refilled;
  };
  void Refill(Budget& budget, Clock::time_point now) const;

  std::unordered_map<std::string, Budget> budgets_;
  std::map<std::string, int64_t> logged_;      // reasons logged this interval
  std::map<std::string, int64_t> suppressed_;  // by reason, this interval
};

}  // namespace anchorage::server
