// `anchorage compare`: runs several configurations on the same data, seed
// and budget (in the simulator, or as real processes with --real) and
// writes results.csv, summary.md and SVG plots into --out-dir. Returns the
// exit code: 0 success, 1 a run or a write failed, 2 bad flags.
#pragma once

namespace anchorage::compare {

int RunCompareCommand(int argc, const char* const* argv);

}  // namespace anchorage::compare
