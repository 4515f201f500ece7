#include "launcher/chaos.h"

namespace anchorage::launcher {

ChaosSchedule::ChaosSchedule(uint64_t seed, double interval_seconds,
                             int workers)
    : random_(seed),
      gap_(1.0 / interval_seconds),
      victim_(ChaosEvent::kServer, workers - 1),
      downtime_(0.2, 2.0) {}

ChaosEvent ChaosSchedule::Next() {
  at_ += gap_(random_);
  const int victim = victim_(random_);
  return {.at_seconds = at_,
          .victim = victim,
          .downtime_seconds = downtime_(random_)};
}

}  // namespace anchorage::launcher
