// `anchorage simulate`: the algorithm on m simulated workers on a virtual
// clock. Returns the exit code: 0 success, 1 runtime failure, 2 bad flags.
#pragma once

namespace anchorage::simulator {

int RunSimulateCommand(int argc, const char* const* argv);

}  // namespace anchorage::simulator
