// `anchorage demo`: one server and N workers as separate processes on
// loopback with ephemeral ports, a live progress line, a final summary
// table and `--summary-json`. Every child is torn down on success, failure
// or Ctrl-C. Returns the exit code: 0 success, 1 failure, 2 bad flags,
// 130 interrupted.
#pragma once

namespace anchorage::launcher {

int RunDemoCommand(int argc, const char* const* argv);

}  // namespace anchorage::launcher
