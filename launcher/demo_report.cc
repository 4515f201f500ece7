#include "launcher/demo_report.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/metrics/scrape.h"

namespace anchorage::launcher {
namespace {

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", bytes, units[unit]);
  return text;
}

}  // namespace

void PrintSummaryTable(const summary::RunSummary& s,
                       const std::string& run_dir) {
  std::printf("\n");
  std::printf("  %-22s %s, %d workers, %s on %s\n", "run", s.algorithm.c_str(),
              s.workers, s.model.c_str(), s.dataset.c_str());
  std::printf("  %-22s %.4f\n", "test accuracy", s.test_accuracy);
  std::printf("  %-22s %.4f\n", "test loss", s.test_loss);
  std::printf("  %-22s %lld\n", "anchor versions",
              static_cast<long long>(s.anchor_version));
  std::printf("  %-22s %.2f (%s)\n", "epochs", s.epochs, s.stop_reason.c_str());
  std::printf("  %-22s %.1f s training, %.1f s in all\n", "wall time",
              s.seconds_of_training(),
              s.demo_wall_seconds.value_or(s.wall_seconds));
  if (s.startup_seconds) {
    std::printf("  %-22s %.2f s from launch to every worker's first step\n",
                "start-up", *s.startup_seconds);
  }
  std::printf("  %-22s %.0f\n", "samples/s (all)", s.samples_per_second());
  std::printf("  %-22s %s up (%s, %.1fx compression), %s down\n",
              "bytes on the wire",
              HumanBytes(static_cast<double>(s.bytes_up)).c_str(),
              s.codec.c_str(), s.compression_ratio(),
              HumanBytes(static_cast<double>(s.bytes_down)).c_str());
  if (s.quantization_bits_mean > 0) {
    std::printf("  %-22s %.3f bits per coordinate (mean over the pushes)\n",
                "quantization", s.quantization_bits_mean);
  }
  std::printf("  %-22s %.2f versions\n", "staleness (mean)", s.staleness_mean);
  std::printf("  %-22s %.1f s compute, %.2f s encoding, %.2f s sync wait\n",
              "per worker (mean)", s.compute_seconds_mean,
              s.encode_seconds_mean, s.sync_wait_seconds_mean);
  std::string lost;
  for (const uint32_t id : s.lost_workers) {
    lost += (lost.empty() ? "" : ", ") + std::to_string(id);
  }
  std::printf("  %-22s %s\n", "lost workers",
              lost.empty() ? "none" : lost.c_str());
  std::printf("  %-22s %s\n", "logs", run_dir.c_str());
  std::fflush(stdout);
}

void PrintChaosReport(const ChaosReport& report,
                      const summary::RunSummary& chaotic,
                      const summary::RunSummary& calm) {
  const double chaotic_wall =
      chaotic.demo_wall_seconds.value_or(chaotic.wall_seconds);
  const double calm_wall = calm.demo_wall_seconds.value_or(calm.wall_seconds);
  std::printf(
      "  %-22s %d kills: server %d, workers %d (seed %llu, one every "
      "~%g s); server restarts resumed: %lld\n",
      "chaos", report.server_kills + report.worker_kills, report.server_kills,
      report.worker_kills, static_cast<unsigned long long>(report.seed),
      report.interval_seconds, static_cast<long long>(chaotic.restarts));
  std::printf(
      "  %-22s test accuracy %.4f vs %.4f (%+.4f), %.1f s vs %.1f s "
      "in all (%+.1f s)\n",
      "against no chaos", chaotic.test_accuracy, calm.test_accuracy,
      chaotic.test_accuracy - calm.test_accuracy, chaotic_wall, calm_wall,
      chaotic_wall - calm_wall);
  std::fflush(stdout);
}

ProgressPrinter::ProgressPrinter(const config::RunConfig& config,
                                 int server_metrics_port)
    : config_(config),
      port_(server_metrics_port),
      tty_(::isatty(STDOUT_FILENO) != 0) {}

void ProgressPrinter::Print(double elapsed_seconds) {
  StatusOr<std::string> text = metrics::HttpGet("127.0.0.1", port_, "/metrics",
                                                std::chrono::milliseconds(500));
  if (!text.ok()) return;
  auto sample = [&](const char* series) {
    return metrics::FindSample(*text, series).value_or(0.0);
  };
  const double version =
      sample(("anchorage_server_anchor_version{algorithm=\"" +
              std::string(algo::AlgorithmName(config_.train.algorithm)) + "\"}")
                 .c_str());
  const double accuracy = sample("anchorage_server_eval_accuracy_ratio");
  const double epoch = sample("anchorage_server_epoch");
  const double samples = sample("anchorage_server_samples_total");
  const double staleness_sum =
      sample("anchorage_server_staleness_versions_sum");
  const double staleness_count =
      sample("anchorage_server_staleness_versions_count");
  const double workers = sample("anchorage_server_workers_connected");
  // A restarted server counts again from its checkpoint: no negative rate.
  const double rate =
      elapsed_seconds > last_seconds_ && samples >= last_samples_
          ? (samples - last_samples_) / (elapsed_seconds - last_seconds_)
          : 0.0;
  last_samples_ = samples;
  last_seconds_ = elapsed_seconds;
  // A shard cannot evaluate its slice: the accuracy comes at the end.
  char test[32] = "   n/a";
  if (config_.server.shards == 1) {
    std::snprintf(test, sizeof(test), "%.4f", accuracy);
  }
  char line[256];
  std::snprintf(line, sizeof(line),
                "[%6.1fs] anchor v%-6.0f epoch %5.2f/%-4g test acc %s  "
                "staleness %4.1f  workers %.0f/%d  %7.0f samples/s",
                elapsed_seconds, version, epoch, config_.train.epochs, test,
                staleness_count > 0 ? staleness_sum / staleness_count : 0.0,
                workers, config_.train.workers, rate);
  if (tty_) {
    std::printf("\r%s", line);
    line_open_ = true;
  } else {
    std::printf("%s\n", line);
  }
  std::fflush(stdout);
}

void ProgressPrinter::Note(const std::string& message) {
  Finish();
  std::printf("%s\n", message.c_str());
  std::fflush(stdout);
}

void ProgressPrinter::Finish() {
  if (line_open_) std::printf("\n");
  line_open_ = false;
}

}  // namespace anchorage::launcher
