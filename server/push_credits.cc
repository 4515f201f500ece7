#include "server/push_credits.h"

#include <algorithm>
#include <iterator>

namespace anchorage::server {

std::vector<PushCredits::Grant> PushCredits::Ask(uint32_t worker,
                                                 uint64_t round,
                                                 Clock::time_point now) {
  if (!enabled()) return {};
  if (const auto pushed = pushed_round_.find(worker);
      pushed != pushed_round_.end() && round <= pushed->second) {
    return {};
  }
  if (const auto held = granted_.find(worker); held != granted_.end()) {
    held->second.round = round;
    return {{worker, round}};
  }
  const auto queued =
      std::find_if(waiting_.begin(), waiting_.end(),
                   [&](const Grant& grant) { return grant.worker == worker; });
  if (queued != waiting_.end()) {
    queued->round = round;
    return {};
  }
  waiting_.push_back({worker, round});
  return GrantWaiting(now);
}

std::vector<PushCredits::Grant> PushCredits::Release(uint32_t worker,
                                                     uint64_t round,
                                                     Clock::time_point now) {
  if (!enabled()) return {};
  pushed_round_[worker] = round;
  granted_.erase(worker);
  return GrantWaiting(now);
}

std::vector<PushCredits::Grant> PushCredits::Forget(uint32_t worker,
                                                    Clock::time_point now) {
  granted_.erase(worker);
  pushed_round_.erase(worker);
  std::erase_if(waiting_,
                [&](const Grant& grant) { return grant.worker == worker; });
  return GrantWaiting(now);
}

std::vector<PushCredits::Grant> PushCredits::Expire(Clock::time_point now) {
  std::erase_if(granted_, [&](const auto& entry) {
    return now - entry.second.since > expiry_;
  });
  return GrantWaiting(now);
}

std::vector<PushCredits::Grant> PushCredits::GrantWaiting(
    Clock::time_point now) {
  std::vector<Grant> grants;
  while (!waiting_.empty() && std::ssize(granted_) < limit_) {
    const Grant next = waiting_.front();
    waiting_.pop_front();
    granted_[next.worker] = {.round = next.round, .since = now};
    grants.push_back(next);
  }
  return grants;
}

}  // namespace anchorage::server
