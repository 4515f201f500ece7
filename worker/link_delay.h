// Injected link delays (--link-latency, --link-bandwidth), to study slow
// links on one machine: a message of n bytes occupies its one-way link for
// n / bandwidth seconds after the previous one, then arrives `latency`
// later. A DelayedQueue holds what travels such a link until it is due.
//
// Not thread-safe: owned by the worker's communication thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace anchorage::worker {

class LinkDelay {
 public:
  using Clock = std::chrono::steady_clock;

  // bandwidth_bytes 0 = unlimited.
  LinkDelay(std::chrono::duration<double> latency, double bandwidth_bytes)
      : latency_(latency), bandwidth_bytes_(bandwidth_bytes) {}

  // Whether messages are delayed at all.
  bool active() const { return latency_.count() > 0 || bandwidth_bytes_ > 0; }
  // When a message of `bytes` sent at `now` arrives.
  Clock::time_point Arrival(Clock::time_point now, size_t bytes);

 private:
  std::chrono::duration<double> latency_;
  double bandwidth_bytes_;
  Clock::time_point busy_until_;
};

// What travels one delayed link, in order of arrival.
template <typename T>
class DelayedQueue {
 public:
  using Clock = LinkDelay::Clock;

  explicit DelayedQueue(LinkDelay link) : link_(link) {}

  bool active() const { return link_.active(); }
  bool empty() const { return queue_.empty(); }
  // Puts `item` of `bytes` on the link at `now`.
  void Push(T item, size_t bytes, Clock::time_point now) {
    queue_.push_back({link_.Arrival(now, bytes), std::move(item)});
  }
  // The next item due by `now`, if any.
  std::optional<T> PopDue(Clock::time_point now) {
    if (queue_.empty() || queue_.front().due > now) return std::nullopt;
    T item = std::move(queue_.front().item);
    queue_.pop_front();
    return item;
  }
  // When the next item falls due (time_point::max() when none waits).
  Clock::time_point NextDue() const {
    return queue_.empty() ? Clock::time_point::max() : queue_.front().due;
  }

 private:
  struct Entry {
    Clock::time_point due;
    T item;
  };
  LinkDelay link_;
  std::deque<Entry> queue_;
};

}  // namespace anchorage::worker
