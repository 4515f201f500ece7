// The simulator's model of time: how long a local step takes on each
// worker, and how long a message of n bytes takes on each worker's link.
// Draws come from per-worker generators seeded by the run's seed, so a
// simulation is reproducible bit for bit.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace anchorage::simulator {

struct DelayOptions {
  // Mean virtual seconds of one local step (one minibatch gradient).
  double step_seconds = 0.01;
  // Coefficient of variation of a step's time (log-normal); 0 = constant.
  double step_jitter = 0.0;
  // Fixed per-worker slowdown factors, as --slowdown: "F" or "i:F,j:G".
  std::string slowdown;
  // Random stragglers: each round, each worker is slowed by `factor` with
  // probability `probability`.
  double random_slowdown_probability = 0.0;
  double random_slowdown_factor = 1.0;
  // One-way latency and bandwidth (bytes/s, 0 = unlimited) of every
  // worker's link, each direction.
  double link_latency_seconds = 0.0;
  double link_bandwidth_bytes = 0.0;
  // The anchor service: `shards` network interfaces of this many bytes/s
  // each direction (0 = unlimited), each carrying 1/shards of every
  // message, one message at a time.
  int shards = 1;
  double server_bandwidth_bytes = 0.0;
};

class DelayModel {
 public:
  DelayModel(const DelayOptions& options, int num_workers, uint64_t seed);

  // Virtual seconds worker `worker` needs for `steps` local steps.
  double ComputeSeconds(int worker, int steps);
  // Arrival time of `bytes` sent at `now` over `worker`'s uplink
  // (worker → server) or downlink; a link carries one message at a time.
  // Up, the worker's link sends the message, and after the latency each
  // shard's interface takes its slice in turn with the other workers'
  // (store and forward); down, the shards send their slices and the
  // worker's link takes the message once the last has left. With
  // unlimited server bandwidth only the worker's link counts.
  double Uplink(int worker, double now, int64_t bytes);
  double Downlink(int worker, double now, int64_t bytes);

  double slowdown(int worker) const {
    return slowdown_[static_cast<size_t>(worker)];
  }

 private:
  // When a link free from *busy_until at `bandwidth` bytes/s (0 =
  // unlimited) has sent `bytes` handed to it at `now`; it is busy until then.
  static double Send(double* busy_until, double now, int64_t bytes,
                     double bandwidth);
  // Shard `shard`'s slice of a message of `bytes`.
  int64_t Slice(int64_t bytes, int shard) const;
  // When the last shard interface of `busy` (one per shard, in or out)
  // has sent its slice of `bytes` handed over at `now`; `now` itself when
  // the server's bandwidth is unlimited.
  double ThroughShards(std::vector<double>* busy, double now,
                       int64_t bytes) const;

  DelayOptions options_;
  std::vector<double> slowdown_;
  std::vector<std::mt19937_64> rngs_;
  std::vector<double> up_busy_;
  std::vector<double> down_busy_;
  std::vector<double> shard_in_busy_;
  std::vector<double> shard_out_busy_;
};

}  // namespace anchorage::simulator
