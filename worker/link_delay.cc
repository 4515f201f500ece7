#include "worker/link_delay.h"

#include <algorithm>

namespace anchorage::worker {

LinkDelay::Clock::time_point LinkDelay::Arrival(Clock::time_point now,
                                                size_t bytes) {
  const Clock::time_point start = std::max(now, busy_until_);
  const double transfer = bandwidth_bytes_ > 0
                              ? static_cast<double>(bytes) / bandwidth_bytes_
                              : 0.0;
  busy_until_ = start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(transfer));
  return busy_until_ + std::chrono::duration_cast<Clock::duration>(latency_);
}

}  // namespace anchorage::worker
