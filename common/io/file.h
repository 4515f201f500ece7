// Atomic file replacement: a reader polling the file (the ready and summary
// files, Prometheus' targets) never sees half of it.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace anchorage::io {

// Writes `contents` to `path` through a temporary file (`path` + ".tmp")
// and rename. Returns Unavailable when either step fails.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace anchorage::io
