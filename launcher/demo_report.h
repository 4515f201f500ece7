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
