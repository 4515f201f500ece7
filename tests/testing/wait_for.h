// Polls a condition every 5 ms until it holds or `limit` has passed.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace anchorage::testing {

// True once `done()` holds; false when it still does not after `limit`.
inline bool WaitFor(
    const std::function<bool()>& done,
    std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace anchorage::testing
