// `anchorage worker`: parses flags, trains until the server says Done or
// SIGINT/SIGTERM. Returns the process exit code: 0 success, 1 runtime
// failure (server unreachable, refused), 2 bad flags or config.
#pragma once

namespace anchorage::worker {

int RunWorkerCommand(int argc, const char* const* argv);

}  // namespace anchorage::worker
