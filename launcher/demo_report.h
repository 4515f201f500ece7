// What the demo shows the user: the live progress line (scraped from the
// server's /metrics) and the final summary table.
#pragma once

#include <string>

#include "common/config/run_config.h"
#include "common/summary/run_summary.h"

namespace anchorage::launcher {

// Prints the summary's main numbers as a table, with the folder of the
// run's logs.
void PrintSummaryTable(const summary::RunSummary& summary,
                       const std::string& run_dir);

// What `demo --chaos` did, and what it cost against the calm run.
struct ChaosReport {
  uint64_t seed = 0;
  double interval_seconds = 0;
  int server_kills = 0;
  int worker_kills = 0;
};

// Prints the kills and the accuracy and time they cost: `chaotic` against
// `calm`, the same run without chaos.
void PrintChaosReport(const ChaosReport& report,
                      const summary::RunSummary& chaotic,
                      const summary::RunSummary& calm);

// Prints one progress line per call from the server's metrics: on a
// terminal the line is rewritten in place, otherwise one line each.
class ProgressPrinter {
 public:
  ProgressPrinter(const config::RunConfig& config, int server_metrics_port);

  void Print(double elapsed_seconds);
  // The server's metrics moved (it was restarted).
  void set_port(int server_metrics_port) { port_ = server_metrics_port; }
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
