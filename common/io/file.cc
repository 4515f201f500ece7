#include "common/io/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

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

bool WriteAll(int fd, std::span<const std::string_view> pieces) {
  return std::all_of(
      pieces.begin(), pieces.end(),
      [fd](std::string_view piece) { return WriteAll(fd, piece); });
}

// The pieces of the concatenation of `parts` before byte `at`, and from it.
std::pair<std::vector<std::string_view>, std::vector<std::string_view>> SplitAt(
    std::span<const std::string_view> parts, size_t at) {
  std::vector<std::string_view> before;
  std::vector<std::string_view> after;
  for (const std::string_view part : parts) {
    const size_t head = std::min(part.size(), at);
    if (head > 0) before.push_back(part.substr(0, head));
    if (head < part.size()) after.push_back(part.substr(head));
    at -= head;
  }
  return {std::move(before), std::move(after)};
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
  const std::string_view parts[] = {contents};
  return WriteFileAtomically(path, parts, Durability::kDurable, hooks);
}

Status WriteFileAtomically(const std::string& path,
                           std::span<const std::string_view> parts,
                           Durability durability, const WriteHooks& hooks) {
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
  size_t total = 0;
  for (const std::string_view part : parts) {
    total += part.size();
  }
  const auto [first_half, second_half] = SplitAt(parts, total / 2);
  if (!WriteAll(fd, first_half)) return fail(Problem("write", temporary));
  if (hooks.mid_write) {
    if (Status status = hooks.mid_write(); !status.ok()) {
      return fail(status.message());
    }
  }
  if (!WriteAll(fd, second_half)) return fail(Problem("write", temporary));
  const bool durable = durability == Durability::kDurable;
  if (durable && ::fsync(fd) != 0) return fail(Problem("sync", temporary));
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
  if (durable && !SyncDirectory(dir)) {
    return Status::Unavailable(Problem("sync", dir));
  }
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

StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(Problem("open", path));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    Status status = Status::Unavailable(Problem("stat", path));
    ::close(fd);
    return status;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::Unavailable("cannot map " + path + ": not a regular file");
  }
  const auto size = static_cast<size_t>(info.st_size);
  if (size == 0) return MappedFile(path, fd, nullptr, 0);
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    Status status = Status::Unavailable(Problem("map", path));
    ::close(fd);
    return status;
  }
  // The descriptor stays open for ReadAt, on the same file as the mapping.
  return MappedFile(path, fd, static_cast<uint8_t*>(data), size);
}

Status MappedFile::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return Status::DataLoss(path_ + ": bytes " + std::to_string(offset) +
                            " to " + std::to_string(offset + out.size()) +
                            " are past its end (" + std::to_string(size_) +
                            " bytes)");
  }
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t read = ::pread(fd_, out.data() + done, out.size() - done,
                                 static_cast<off_t>(offset + done));
    if (read < 0 && errno == EINTR) continue;
    if (read <= 0) {
      return Status::DataLoss(read == 0 ? path_ + ": ends early"
                                        : Problem("read", path_));
    }
    done += static_cast<size_t>(read);
  }
  return Status::Ok();
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Unmap();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  Unmap();
}

void MappedFile::Unmap() {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace anchorage::io
