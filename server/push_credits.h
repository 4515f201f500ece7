// Push credits: the server's bound on the pushes in flight toward it
// (--push-credits, README "Memory"). A push is a model's worth of bytes,
// and ZeroMQ holds each one it receives in full before the server reads
// it; when every worker of a large run finishes its round at once, the
// pushes queued in the receive pipes alone would be as large as the slots.
// With a limit of N, a worker whose Welcome says ask_before_push sends a
// small PushAsk first and its push only once granted, so at most N pushes
// are granted and not yet received.
//
// Grants go first come, first served. A grant ends when the push arrives
// (Release), when its worker leaves, is lost or rejoins (Forget), or when
// it was not used within `expiry` (Expire), so a worker that vanishes
// mid-round cannot hold a credit forever. Each call returns the grants it
// made, for the server to send.
//
// Not thread-safe: owned by the serving loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

namespace anchorage::server {

class PushCredits {
 public:
  using Clock = std::chrono::steady_clock;
  struct Grant {
    uint32_t worker = 0;
    uint64_t round = 0;
  };

  // `limit` grants at once (0: no limit: nobody asks, every worker may
  // push, and every call below grants nothing).
  PushCredits(int64_t limit, Clock::duration expiry)
      : limit_(limit), expiry_(expiry) {}

  bool enabled() const { return limit_ > 0; }
  // `worker` asks to push `round`. Granted now when a credit is free (and
  // again when it already holds one: the grant may have been lost); queued
  // otherwise. An ask for a round it already pushed is a late duplicate
  // and ignored.
  std::vector<Grant> Ask(uint32_t worker, uint64_t round,
                         Clock::time_point now);
  // Whether `worker` may push now.
  bool Holds(uint32_t worker) const {
    return !enabled() || granted_.contains(worker);
  }
  // `worker`'s push of `round` arrived: its credit goes to the next in
  // line.
  std::vector<Grant> Release(uint32_t worker, uint64_t round,
                             Clock::time_point now);
  // `worker` left, was lost or joined again: its grant and its place in
  // line are dropped.
  std::vector<Grant> Forget(uint32_t worker, Clock::time_point now);
  // Takes back the grants older than the expiry.
  std::vector<Grant> Expire(Clock::time_point now);

  size_t granted() const { return granted_.size(); }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Granted {
    uint64_t round = 0;
    Clock::time_point since;
  };
  // Grants to the head of the line while credits are free.
  std::vector<Grant> GrantWaiting(Clock::time_point now);

  int64_t limit_;
  Clock::duration expiry_;
  std::map<uint32_t, Granted> granted_;
  std::deque<Grant> waiting_;
  // The round of each worker's last push received.
  std::map<uint32_t, uint64_t> pushed_round_;
};

}  // namespace anchorage::server
