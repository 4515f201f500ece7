// Whole-file reads, and atomic, durable file replacement (DESIGN.md section
// 10): a reader never
// sees half of a file (the ready and summary files, Prometheus' targets, a
// saved model, a checkpoint), and a file that was replaced survives a crash
// of the process or the machine right after.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace anchorage::io {

// Points inside WriteFileAtomically where a test can stop the writer (raise
// SIGKILL, return an error) to check what a crash there leaves behind.
struct WriteHooks {
  // After half of the contents reached the temporary file.
  std::function<Status()> mid_write;
  // After the temporary file is complete and synced, before the rename.
  std::function<Status()> before_rename;
};

// Writes `contents` to `path`: a temporary file with a unique name in the
// same directory (".<name>.XXXXXX"), written whole, fsync'ed, renamed over
// `path`, and the directory fsync'ed. Returns Unavailable naming the path
// and the failing step; the temporary file is then removed and `path` is
// what it was.
Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           const WriteHooks& hooks = {});

// The bytes of the file at `path`: NotFound ("cannot open PATH") when it
// cannot be opened, DataLoss when reading it fails.
StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace anchorage::io
