// A worker's Prometheus metrics (DESIGN.md section 5), registered once at
// construction. The compute and communication threads both update them;
// prometheus-cpp metrics are thread-safe.
#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace anchorage::worker {

struct WorkerMetrics {
  WorkerMetrics(prometheus::Registry& registry, const std::string& algorithm,
                const std::string& codec);

  prometheus::Counter& local_steps;
  prometheus::Counter& samples;
  prometheus::Counter& compute_seconds;
  prometheus::Counter& encode_seconds;
  prometheus::Histogram& sync_wait;
  prometheus::Histogram& push_rtt;
  prometheus::Counter& bytes_tx;
  prometheus::Counter& bytes_rx;
  prometheus::Counter& raw_bytes;
  prometheus::Gauge& quantization_bits;
  prometheus::Gauge& train_loss;
  prometheus::Gauge& anchor_version;
  prometheus::Gauge& learning_rate;
  prometheus::Counter& reconnects;
};

}  // namespace anchorage::worker
