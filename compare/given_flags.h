// Which flags the user set for `anchorage compare`, so a preset study can
// keep them and replace only the defaults.
//
// Thread-safety: a free function over its arguments.
#pragma once

#include <set>
#include <string>

namespace anchorage::compare {

// Returns the long flags named in `argv[1..argc)` ("--workers" for both
// "--workers 8" and "--workers=8") and the keys of the `--config` file, as
// flags ("local_steps:" gives "--local-steps"). A config file that cannot
// be read adds nothing (the flag parser reports it).
std::set<std::string> GivenFlags(int argc, const char* const* argv);

}  // namespace anchorage::compare
