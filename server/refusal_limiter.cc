#include "server/refusal_limiter.h"

#include <algorithm>
#include <iterator>

namespace anchorage::server {

void RefusalLimiter::Refill(Budget& budget, Clock::time_point now) const {
  const double seconds =
      std::chrono::duration<double>(now - budget.refilled).count();
  budget.tokens = std::min(kBurst, budget.tokens + seconds * kRepliesPerSecond);
  budget.refilled = now;
}

bool RefusalLimiter::AllowReply(const std::string& routing_id,
                                Clock::time_point now) {
  auto it = budgets_.find(routing_id);
  if (it == budgets_.end()) {
    if (budgets_.size() >= kMaxConnections) return false;
    it = budgets_.emplace(routing_id, Budget{.refilled = now}).first;
  }
  Budget& budget = it->second;
  Refill(budget, now);
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}

bool RefusalLimiter::AllowLog(const std::string& reason) {
  if (logged_[reason]++ == 0) return true;
  ++suppressed_[reason];
  return false;
}

std::string RefusalLimiter::EndInterval(Clock::time_point now) {
  std::string summary;
  for (const auto& [reason, count] : suppressed_) {
    if (!summary.empty()) summary += ", ";
    summary += std::to_string(count) + " (" + reason + ")";
  }
  logged_.clear();
  suppressed_.clear();
  for (auto it = budgets_.begin(); it != budgets_.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= kBurst ? budgets_.erase(it) : std::next(it);
  }
  return summary;
}

}  // namespace anchorage::server
