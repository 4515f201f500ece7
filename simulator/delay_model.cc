#include "simulator/delay_model.h"

#include <algorithm>
#include <cmath>

#include "common/config/run_config.h"

namespace anchorage::simulator {

DelayModel::DelayModel(const DelayOptions& options, int num_workers,
                       uint64_t seed)
    : options_(options),
      slowdown_(static_cast<size_t>(num_workers), 1.0),
      up_busy_(static_cast<size_t>(num_workers), 0.0),
      down_busy_(static_cast<size_t>(num_workers), 0.0),
      shard_in_busy_(static_cast<size_t>(std::max(options.shards, 1)), 0.0),
      shard_out_busy_(static_cast<size_t>(std::max(options.shards, 1)), 0.0) {
  options_.shards = std::max(options_.shards, 1);
  config::WorkerOptions parsed;
  parsed.slowdown = options.slowdown;
  for (int i = 0; i < num_workers; ++i) {
    slowdown_[static_cast<size_t>(i)] = parsed.SlowdownFor(i);
    std::seed_seq sequence{seed, static_cast<uint64_t>(i), uint64_t{0x5eed}};
    rngs_.emplace_back(sequence);
  }
}

double DelayModel::ComputeSeconds(int worker, int steps) {
  std::mt19937_64& rng = rngs_[static_cast<size_t>(worker)];
  double seconds = options_.step_seconds * steps;
  if (options_.step_jitter > 0) {
    // Log-normal with mean 1 and the requested coefficient of variation.
    const double sigma2 =
        std::log1p(options_.step_jitter * options_.step_jitter);
    std::normal_distribution<double> normal(-0.5 * sigma2, std::sqrt(sigma2));
    seconds *= std::exp(normal(rng));
  }
  seconds *= slowdown_[static_cast<size_t>(worker)];
  if (options_.random_slowdown_probability > 0) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    if (uniform(rng) < options_.random_slowdown_probability) {
      seconds *= options_.random_slowdown_factor;
    }
  }
  return seconds;
}

double DelayModel::Send(double* busy_until, double now, int64_t bytes,
                        double bandwidth) {
  const double start = std::max(now, *busy_until);
  *busy_until =
      start + (bandwidth > 0 ? static_cast<double>(bytes) / bandwidth : 0.0);
  return *busy_until;
}

int64_t DelayModel::Slice(int64_t bytes, int shard) const {
  const int64_t shards = options_.shards;
  return bytes / shards + (shard < bytes % shards ? 1 : 0);
}

double DelayModel::ThroughShards(std::vector<double>* busy, double now,
                                 int64_t bytes) const {
  if (options_.server_bandwidth_bytes <= 0) return now;
  double last = now;
  for (int s = 0; s < options_.shards; ++s) {
    last =
        std::max(last, Send(&(*busy)[static_cast<size_t>(s)], now,
                            Slice(bytes, s), options_.server_bandwidth_bytes));
  }
  return last;
}

double DelayModel::Uplink(int worker, double now, int64_t bytes) {
  const double sent = Send(&up_busy_[static_cast<size_t>(worker)], now, bytes,
                           options_.link_bandwidth_bytes) +
                      options_.link_latency_seconds;
  return ThroughShards(&shard_in_busy_, sent, bytes);
}

double DelayModel::Downlink(int worker, double now, int64_t bytes) {
  const double ready = ThroughShards(&shard_out_busy_, now, bytes);
  return Send(&down_busy_[static_cast<size_t>(worker)], ready, bytes,
              options_.link_bandwidth_bytes) +
         options_.link_latency_seconds;
}

}  // namespace anchorage::simulator
