// anchorage_bench: every Google Benchmark of the project, then the summary
// lines (ratios against same-run baselines).
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/base/heap.h"
#include "tests/bench/bench_summary.h"

namespace anchorage::bench {
namespace {

std::vector<std::string>& Lines() {
  static std::vector<std::string> lines;
  return lines;
}

}  // namespace

void AddSummaryLine(const std::string& line) {
  Lines().push_back(line);
}

}  // namespace anchorage::bench

int main(int argc, char** argv) {
  // As the binary does: the baselines run with the heap the services have.
  anchorage::RetainFreedHeap();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\nSummary\n");
  for (const std::string& line : anchorage::bench::Lines()) {
    std::printf("  %s\n", line.c_str());
  }
  return 0;
}
