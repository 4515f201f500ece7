// Serves a prometheus::Registry over HTTP/1.1 on one small thread:
//   /metrics  the Prometheus text format
//   /healthz  200 while the process runs (liveness)
//   /readyz   200 once set_ready(true), else 503 (readiness: the server is
//             bound, a worker has joined)
// GET and HEAD (the same headers, no body). One request per connection;
// up to 256 connections are served at once, multiplexed with poll() over
// non-blocking sockets, so an idle or slow client holds no one else up; a
// client not done within 2 s is dropped, and one past the limit is closed
// at once. Stopping takes at most one poll interval (100 ms).
//
// Thread-safe: set_ready may be called from any thread; metric updates are
// atomic in prometheus-cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "common/base/status.h"

namespace anchorage::metrics {

class MetricsExposer {
 public:
  // Binds `address`:`port` (port 0 picks a free one) and serves `registry`,
  // which the exposer keeps shared. Returns Unavailable when the port cannot
  // be bound.
  static StatusOr<std::unique_ptr<MetricsExposer>> Create(
      const std::string& address, int port,
      std::shared_ptr<prometheus::Registry> registry);
  ~MetricsExposer();
  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;
  MetricsExposer(MetricsExposer&&) = delete;
  MetricsExposer& operator=(MetricsExposer&&) = delete;

  // The port actually bound.
  int port() const { return port_; }
  // What /readyz answers from now on.
  void set_ready(bool ready) { ready_.store(ready); }

 private:
  MetricsExposer(int listen_fd, int port,
                 std::shared_ptr<prometheus::Registry> registry);
  // A client's exchange: its request as far as it came, then the response
  // and how much of it was sent.
  struct Connection {
    int fd = -1;
    std::chrono::steady_clock::time_point deadline;
    std::string request;
    std::string response;
    size_t sent = 0;
    bool done = false;
  };
  void Serve();
  void Accept(std::vector<Connection>* connections,
              std::chrono::steady_clock::time_point now) const;
  // Reads or writes what the connection is ready for.
  void Progress(Connection& connection);
  std::string Respond(const std::string& request) const;

  std::shared_ptr<prometheus::Registry> registry_;
  int listen_fd_;
  int port_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Adds anchorage_build_info{version="..."} = 1 to `registry`.
void AddBuildInfo(prometheus::Registry& registry);

}  // namespace anchorage::metrics
