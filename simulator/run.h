// Builds and runs a simulation from a RunConfig, as `anchorage simulate`
// and `anchorage compare` do: the dataset, its partition, one Trainer per
// worker, the codec's byte counts and the test-set evaluation.
#pragma once

#include <functional>

#include "common/base/status.h"
#include "common/config/run_config.h"
#include "simulator/simulator.h"

namespace anchorage::simulator {

// Runs the simulation `config` describes; `on_trace` (may be empty) sees
// every evaluation as it happens, `observer` every push and anchor. The
// result's summary includes the run's settings. Returns data-loading and
// config errors.
StatusOr<SimulationResult<float>> SimulateRun(
    const config::RunConfig& config,
    const std::function<void(const TracePoint&)>& on_trace,
    SimulationObserver<float> observer = {});

// Writes the trace as CSV: virtual_seconds, version, examples, epoch,
// train_loss, test_loss, test_accuracy, bytes_up, bytes_down,
// sync_wait_seconds_mean; numbers printed exactly (%.17g), so equal runs
// give equal files.
Status WriteTraceCsv(const std::string& path,
                     const std::vector<TracePoint>& trace);

}  // namespace anchorage::simulator
