// Writes and reads 1-D float32 NumPy .npy files (format version 1.0), the
// format of `--save-model`: numpy.load(path) returns the parameters.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace anchorage::io {

// Writes `values` to `path` as a little-endian float32 array of shape
// (n,). Returns Unavailable naming the path when it cannot be written.
Status WriteNpy(const std::string& path, std::span<const float> values);

// Reads a file written by WriteNpy (1-D '<f4', C order). Returns NotFound or
// DataLoss naming the path otherwise.
StatusOr<std::vector<float>> ReadNpy(const std::string& path);

}  // namespace anchorage::io
