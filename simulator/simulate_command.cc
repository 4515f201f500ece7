#include "simulator/simulate_command.h"

#include <cstdio>
#include <optional>

#include "common/algo/algorithm.h"
#include "common/data/dataset.h"
#include "common/io/npy.h"
#include "common/service/startup.h"
#include "common/summary/run_summary.h"
#include "simulator/run.h"

namespace anchorage::simulator {

int RunSimulateCommand(int argc, const char* const* argv) {
  int exit_code = 0;
  const std::optional<config::RunConfig> parsed = service::ParseOrExit(
      config::Role::kSimulate, "simulate", argc, argv, &exit_code);
  if (!parsed) return exit_code;
  const config::RunConfig& config = *parsed;
  std::fprintf(stderr,
               "simulating %s: %d workers, %s on %s, τ=%d, step %.4g s, "
               "link %.4g s + %.4g B/s\n",
               std::string(algo::AlgorithmName(config.train.algorithm)).c_str(),
               config.train.workers, config.train.model.c_str(),
               std::string(data::DatasetName(config.train.dataset)).c_str(),
               config.train.local_steps, config.simulate.step_seconds,
               config.worker.link_latency_seconds,
               config.worker.link_bandwidth_bytes);
  StatusOr<SimulationResult<float>> result =
      SimulateRun(config, [](const TracePoint& p) {
        std::fprintf(stderr,
                     "[virtual %8.2fs] anchor v%-6llu epoch %6.2f  train loss "
                     "%.4f  test acc %.4f  sync wait %.3f s\n",
                     p.virtual_seconds,
                     static_cast<unsigned long long>(p.version), p.epoch,
                     p.train_loss, p.test_accuracy, p.sync_wait_seconds_mean);
      });
  if (!result.ok()) {
    std::fprintf(stderr, "anchorage simulate: %s\n",
                 result.status().message().c_str());
    return 1;
  }
  const TracePoint& last = result->trace.back();
  std::printf(
      "%s: test accuracy %.4f, test loss %.4f after %.2f epochs, %llu anchor "
      "versions, %.2f virtual s, %.1f MB up, sync wait %.3f s per worker\n",
      std::string(algo::AlgorithmName(config.train.algorithm)).c_str(),
      last.test_accuracy, last.test_loss, last.epoch,
      static_cast<unsigned long long>(result->summary.anchor_version),
      result->summary.wall_seconds,
      static_cast<double>(result->summary.bytes_up) / 1e6,
      result->summary.sync_wait_seconds_mean);
  std::printf(
      "anchor versions changed %.1f coordinates each (mean), %.0f bytes per "
      "worker as a sparse downlink (8 per coordinate)\n",
      result->summary.anchor_changes_mean,
      8.0 * result->summary.anchor_changes_mean);
  if (result->summary.quantization_bits_mean > 0) {
    std::printf(
        "quantization: %.3f bits per coordinate (mean over the pushes)\n",
        result->summary.quantization_bits_mean);
  }
  const FailureCounts& failures = result->failures;
  if (failures.worker_failures > 0 || failures.server_crashes > 0) {
    std::printf(
        "failures: %lld worker crashes, %lld server crashes; of %lld pushes "
        "sent, %lld reached a server that was down, %lld were rolled back "
        "to a checkpoint, %lld were on the wire at the end\n",
        static_cast<long long>(failures.worker_failures),
        static_cast<long long>(failures.server_crashes),
        static_cast<long long>(failures.pushes_sent),
        static_cast<long long>(failures.pushes_lost_in_flight),
        static_cast<long long>(failures.pushes_rolled_back),
        static_cast<long long>(failures.pushes_in_flight_at_end));
  }
  if (!result->stopped_early.empty()) {
    std::fprintf(stderr, "anchorage simulate: stopped early: %s\n",
                 result->stopped_early.c_str());
  }
  Status status;
  if (!config.simulate.trace_csv.empty()) {
    status = WriteTraceCsv(config.simulate.trace_csv, result->trace);
  }
  if (status.ok() && !config.output.summary_json.empty()) {
    status =
        summary::WriteRunSummary(config.output.summary_json, result->summary);
  }
  if (status.ok() && !config.output.save_model.empty()) {
    status = io::WriteNpy(config.output.save_model, result->anchor);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "anchorage simulate: %s\n", status.message().c_str());
    return 1;
  }
  return result->stopped_early.empty() ? 0 : 1;
}

}  // namespace anchorage::simulator
