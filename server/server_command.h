// `anchorage server`: parses flags, runs the server until the run completes
// or SIGINT/SIGTERM, writes the summary and the model. Returns the process
// exit code: 0 success, 1 runtime failure, 2 bad flags or config.
#pragma once

namespace anchorage::server {

int RunServerCommand(int argc, const char* const* argv);

}  // namespace anchorage::server
