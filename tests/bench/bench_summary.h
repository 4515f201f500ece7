// Lines that benchmarks add for the end of the run: ratios against
// baselines measured in the same run.
#pragma once

#include <string>

namespace anchorage::bench {

void AddSummaryLine(const std::string& line);

}  // namespace anchorage::bench
