// Serves a prometheus::Registry over HTTP at /metrics, and registers the
// build-info gauge every Anchorage process exports.
//
// Thread-safe: prometheus-cpp serves scrapes from its own threads; metric
// updates are atomic.
#pragma once

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "common/base/status.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

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

  // The port actually bound.
  int port() const { return port_; }

 private:
  MetricsExposer(std::unique_ptr<prometheus::Exposer> exposer, int port,
                 std::shared_ptr<prometheus::Registry> registry);

  // The exposer holds the registry only weakly; this keeps it alive.
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

// Adds anchorage_build_info{version="..."} = 1 to `registry`.
void AddBuildInfo(prometheus::Registry& registry);

}  // namespace anchorage::metrics
