#include "common/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/base/format.h"

namespace anchorage::io {
namespace {

std::string Problem(const std::string& step, const std::string& path) {
  return "cannot " + step + " " + path + ": " + ErrnoText(errno);
}

// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

// Syncs the directory holding a renamed file, so the rename is durable.
bool SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           const WriteHooks& hooks) {
  const std::filesystem::path target(path);
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : ".";
  std::string temporary = dir + "/." + target.filename().string() + ".XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) return Status::Unavailable(Problem("create a file beside", path));
  const auto fail = [&](const std::string& problem) {
    ::close(fd);
    std::remove(temporary.c_str());
    return Status::Unavailable(problem);
  };
  // mkostemp creates 0600; these files are for everyone who may read the
  // directory, as a plain open would make them.
  ::fchmod(fd, 0644);
  const size_t half = contents.size() / 2;
  if (!WriteAll(fd, contents.substr(0, half))) {
    return fail(Problem("write", temporary));
  }
  if (hooks.mid_write) {
    if (Status status = hooks.mid_write(); !status.ok()) {
      return fail(status.message());
    }
  }
  if (!WriteAll(fd, contents.substr(half))) {
    return fail(Problem("write", temporary));
  }
  if (::fsync(fd) != 0) return fail(Problem("sync", temporary));
  if (hooks.before_rename) {
    if (Status status = hooks.before_rename(); !status.ok()) {
      return fail(status.message());
    }
  }
  if (::close(fd) != 0) {
    std::remove(temporary.c_str());
    return Status::Unavailable(Problem("close", temporary));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    Status status =
        Status::Unavailable(Problem("rename " + temporary + " to", path));
    std::remove(temporary.c_str());
    return status;
  }
  if (!SyncDirectory(dir)) return Status::Unavailable(Problem("sync", dir));
  return Status::Ok();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (in.bad()) return Status::DataLoss(path + ": cannot be read");
  return bytes;
}

}  // namespace anchorage::io
