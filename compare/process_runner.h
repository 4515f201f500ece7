// Runs one planned run of `anchorage compare` as real processes
// (`--real`): an `anchorage demo` child with a server and worker processes
// on loopback.
//
// Not thread-safe: runs execute one after another on the caller's thread.
#pragma once

#include <string>

#include "common/base/status.h"
#include "compare/outcome.h"
#include "compare/study.h"

namespace anchorage::compare {

struct ProcessRunOptions {
  // The `anchorage` executable to start as `<executable> demo ...`.
  std::string executable;
  // Each run gets a folder under it for the demo's log and summary JSON.
  std::string work_dir;
  // The demo's --timeout; the child is stopped a little after it.
  double timeout_seconds = 1800;
};

// Runs `spec` as `<executable> demo <its flags> --summary-json ...
// --progress-interval 0` and reads the summary: the server's periodic
// evaluations become the trace (wall seconds). Run `index` logs to
// `<work_dir>/run-<index>/demo.log`. Returns Unavailable when the demo
// cannot start, fails or times out (naming its log), and DataLoss when its
// summary cannot be read.
StatusOr<RunOutcome> RunAsProcess(const RunSpec& spec,
                                  const ProcessRunOptions& options, int index);

}  // namespace anchorage::compare
