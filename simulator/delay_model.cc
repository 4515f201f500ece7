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
      down_busy_(static_cast<size_t>(num_workers), 0.0) {
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

double DelayModel::Transfer(double* busy_until, double now,
                            int64_t bytes) const {
  const double start = std::max(now, *busy_until);
  const double transfer =
      options_.link_bandwidth_bytes > 0
          ? static_cast<double>(bytes) / options_.link_bandwidth_bytes
          : 0.0;
  *busy_until = start + transfer;
  return *busy_until + options_.link_latency_seconds;
}

double DelayModel::Uplink(int worker, double now, int64_t bytes) {
  return Transfer(&up_busy_[static_cast<size_t>(worker)], now, bytes);
}

double DelayModel::Downlink(int worker, double now, int64_t bytes) {
  return Transfer(&down_busy_[static_cast<size_t>(worker)], now, bytes);
}

}  // namespace anchorage::simulator
