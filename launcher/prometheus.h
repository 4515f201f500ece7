// A local Prometheus server for `anchorage demo --prometheus`: Debian's
// `prometheus` binary started as a child process with a generated config in
// the demo's run folder. Its scrape targets come from a file-based service
// discovery file (prometheus-targets.json) that the demo writes once the
// server and workers have reported their metrics ports; storage is the run
// folder's prometheus-data/; it listens on 127.0.0.1 on a free port.
//
// Not thread-safe; owned by the launcher's main thread. Destroying it kills
// Prometheus (ChildProcess); Stop() ends it cleanly first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "launcher/process.h"

namespace anchorage::launcher {

// One scrape target: `address` is host:port of a /metrics endpoint.
struct ScrapeTarget {
  std::string address;
  std::string role;              // "server" or "worker"
  std::optional<int> worker_id;  // workers only: the `worker` label
  std::optional<int> shard;      // a sharded server's: the `shard` label
};

class LocalPrometheus {
 public:
  // Finds `prometheus` on PATH, writes run_dir/prometheus.yml (scrape every
  // `scrape_interval_seconds`, targets from run_dir/prometheus-targets.json)
  // and starts it, logging to run_dir/prometheus.log. Returns NotFound with
  // a message pointing at scripts/install-deps when it is not installed,
  // Unavailable when it does not answer /-/ready within 30 s.
  static StatusOr<LocalPrometheus> Start(const std::string& run_dir,
                                         double scrape_interval_seconds);

  // Writes the file_sd targets file (atomically; Prometheus re-reads it).
  Status WriteTargets(const std::vector<ScrapeTarget>& targets) const;

  // http://127.0.0.1:PORT
  const std::string& url() const { return url_; }
  ChildProcess& process() { return *process_; }

  // SIGTERM (Prometheus flushes its storage), SIGKILL after a grace period.
  void Stop();

 private:
  LocalPrometheus(std::string targets_path, std::string url,
                  ChildProcess process)
      : targets_path_(std::move(targets_path)),
        url_(std::move(url)),
        process_(std::move(process)) {}

  std::string targets_path_;
  std::string url_;
  std::optional<ChildProcess> process_;
};

// The file_sd JSON for `targets` (labels role and, for workers, worker).
std::string FileSdJson(const std::vector<ScrapeTarget>& targets);

}  // namespace anchorage::launcher
