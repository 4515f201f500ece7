// What a server run achieved, written as the summary JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/run_config.h"

namespace anchorage::server {

// What the run achieved; also written as the summary JSON.
struct ServerSummary {
  uint64_t anchor_version = 0;
  double test_accuracy = 0;
  double test_loss = 0;
  double wall_seconds = 0;
  double epochs = 0;
  int64_t samples = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t raw_bytes_up = 0;
  int64_t pushes_applied = 0;
  int64_t pushes_rejected = 0;
  int64_t pushes_stale = 0;
  int64_t rejected_messages = 0;
  double staleness_mean = 0;
  double sync_wait_seconds_mean = 0;
  double compute_seconds_mean = 0;
  double encode_seconds_mean = 0;
  double train_loss = 0;
  std::vector<uint32_t> lost_workers;
  std::string stop_reason;
  // (seconds since start, anchor version, accuracy, loss) per evaluation.
  struct Point {
    double seconds;
    uint64_t version;
    double accuracy;
    double loss;
  };
  std::vector<Point> evaluations;
};

// Writes `summary` with the run's settings as the summary JSON.
Status WriteSummaryJson(const std::string& path,
                        const config::RunConfig& config,
                        const ServerSummary& summary);

}  // namespace anchorage::server
