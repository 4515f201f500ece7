// What the demo reads from its children and shows the user: the server's
// ready file, the live progress line (scraped from the server's /metrics)
// and the final summary table and JSON.
#pragma once

#include <string>

#include "common/base/status.h"
#include "common/config/run_config.h"

namespace anchorage::launcher {

struct ServerEndpoints {
  std::string endpoint;
  int metrics_port = 0;
};

// Reads the server's --ready-file.
StatusOr<ServerEndpoints> ReadServerReady(const std::string& path);

// The server's summary JSON, kept whole, plus the fields the table shows.
struct DemoSummary {
  std::string json;  // the server's summary, verbatim
  std::string algorithm;
  std::string model;
  std::string dataset;
  int workers = 0;
  double test_accuracy = 0;
  double test_loss = 0;
  int64_t anchor_version = 0;
  double epochs = 0;
  int64_t samples = 0;
  double wall_seconds = 0;
  double demo_wall_seconds = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::string codec;
  double compression_ratio = 0;
  double staleness_mean = 0;
  double compute_seconds_mean = 0;
  double encode_seconds_mean = 0;
  double sync_wait_seconds_mean = 0;
  std::string lost_workers;
  std::string stop_reason;
};

StatusOr<DemoSummary> ReadServerSummary(const std::string& path);

// Writes the server's summary with the launcher's wall time added as
// "demo_wall_seconds".
Status WriteDemoSummary(const std::string& path, const DemoSummary& summary);

void PrintSummaryTable(const DemoSummary& summary, const std::string& run_dir);

// Prints one progress line per call from the server's metrics: on a
// terminal the line is rewritten in place, otherwise one line each.
class ProgressPrinter {
 public:
  ProgressPrinter(const config::RunConfig& config, int server_metrics_port);

  void Print(double elapsed_seconds);
  // Prints a message on a line of its own.
  void Note(const std::string& message);
  // Ends the progress line.
  void Finish();

 private:
  const config::RunConfig& config_;
  int port_;
  bool tty_;
  bool line_open_ = false;
  double last_samples_ = 0;
  double last_seconds_ = 0;
};

}  // namespace anchorage::launcher
