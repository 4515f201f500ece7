// The schedule of `anchorage demo --chaos`: kills at random moments (gaps
// drawn from an exponential distribution of mean `interval_seconds`), each
// of the server or one of the workers chosen uniformly, each followed by a
// downtime drawn uniformly from [0.2, 2] s before the process is started
// again. Deterministic for a seed, so a chaotic run can be repeated.
//
// Not thread-safe; a value.
#pragma once

#include <cstdint>
#include <random>

namespace anchorage::launcher {

struct ChaosEvent {
  static constexpr int kServer = -1;
  double at_seconds = 0;  // since the run started
  int victim = kServer;   // kServer, or a worker id
  double downtime_seconds = 0;
};

class ChaosSchedule {
 public:
  ChaosSchedule(uint64_t seed, double interval_seconds, int workers);

  // The next kill after the previous one (the first: after the start).
  ChaosEvent Next();

 private:
  std::mt19937_64 random_;
  std::exponential_distribution<double> gap_;
  std::uniform_int_distribution<int> victim_;
  std::uniform_real_distribution<double> downtime_;
  double at_ = 0;
};

}  // namespace anchorage::launcher
