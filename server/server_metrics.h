// The server's Prometheus metrics (DESIGN.md section 5), registered once at
// construction; the event loop keeps the handles. Thread-safe as
// prometheus-cpp metrics are.
#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace anchorage::server {

class ServerMetrics {
 public:
  ServerMetrics(prometheus::Registry& registry, const std::string& algorithm,
                const std::string& codec);

  // Counts a rejected message under `reason`.
  void Reject(const std::string& reason);

  prometheus::Gauge& anchor_version;
  prometheus::Gauge& workers_connected;
  prometheus::Counter& workers_lost;
  prometheus::Counter& pushes_applied;
  prometheus::Counter& pushes_rejected;
  prometheus::Counter& pushes_stale;
  // Workers waiting for a push credit (push_credits.h).
  prometheus::Gauge& pushes_waiting;
  prometheus::Histogram& staleness;
  prometheus::Histogram& push_delay;
  prometheus::Histogram& round_duration;
  prometheus::Histogram& straggler_wait;
  prometheus::Counter& bytes_rx;
  prometheus::Counter& bytes_tx;
  // Messages to a peer whose queue was full (it is not reading), dropped
  // rather than waited for; Error replies not sent because the peer used
  // up its share (refusal_limiter.h).
  prometheus::Counter& sends_dropped;
  prometheus::Counter& replies_suppressed;
  prometheus::Counter& samples;
  prometheus::Gauge& eval_accuracy;
  prometheus::Gauge& eval_loss;
  prometheus::Gauge& epoch;
  // Checkpoints: the serving thread's stall for the snapshot, the write
  // off that thread, writes by outcome, and resumptions of the run.
  prometheus::Histogram& checkpoint_snapshot;
  prometheus::Histogram& checkpoint_write;
  prometheus::Counter& checkpoints_written;
  prometheus::Counter& checkpoints_failed;
  prometheus::Gauge& restarts;

 private:
  prometheus::Family<prometheus::Counter>& rejected_;
};

}  // namespace anchorage::server
