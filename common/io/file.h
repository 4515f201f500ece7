// Whole-file reads, read-only memory maps, and atomic, durable file
// replacement (DESIGN.md section 10): a reader never sees half of a file
// (the ready and summary files, Prometheus' targets, a saved model, a
// checkpoint, a dataset cache), and a file that was replaced survives a
// crash of the process or the machine right after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

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

// Whether a replaced file must survive a crash of the machine.
enum class Durability {
  // The file and its directory are fsync'ed: after the call returns, the
  // new file is on disk.
  kDurable,
  // No fsync: the rename is still atomic, so while the machine runs every
  // reader sees the previous file or the new one whole, but after a crash
  // of the machine the new file may be there with missing or zeroed data.
  // For files whose readers check every byte they use and that can be made
  // again (the dataset cache), where syncing hundreds of megabytes would
  // cost seconds.
  kAtomicOnly,
};

// As above for a file made of `parts`, written one after another, so a
// large file is not first copied into one buffer. `mid_write` runs once
// half of the bytes are written.
Status WriteFileAtomically(const std::string& path,
                           std::span<const std::string_view> parts,
                           Durability durability, const WriteHooks& hooks = {});

// The bytes of the file at `path`: NotFound ("cannot open PATH") when it
// cannot be opened, DataLoss when reading it fails.
StatusOr<std::string> ReadFile(const std::string& path);

// A whole file mapped read-only into memory (mmap, MAP_SHARED): pages are
// read from the page cache when touched, and processes mapping the same
// file share them. The mapping stays valid after the file is renamed over
// or removed; a file truncated in place while mapped would fault on access,
// which is why the files mapped here are only ever replaced by rename.
//
// Move-only; unmaps and closes the file on destruction. Reads from any
// thread are safe.
class MappedFile {
 public:
  // Maps `path`. NotFound ("cannot open PATH: ...") when it cannot be
  // opened, Unavailable naming it when it cannot be mapped. An empty file
  // gives an empty span.
  static StatusOr<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

  // Copies the file's bytes at `offset` into `out` with pread, from the
  // same file as the mapping, without touching the mapping: a page read
  // through the mapping is faulted into this process first, one fault per
  // page, which for rows scattered over a large file costs more than the
  // copy. DataLoss naming the file when the range is not in it or the read
  // fails.
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const;

 private:
  // `data` is the mapping (PROT_READ: never written through); `fd` the
  // open file it maps.
  MappedFile(std::string path, int fd, uint8_t* data, size_t size)
      : path_(std::move(path)), fd_(fd), data_(data), size_(size) {}
  void Unmap();

  std::string path_;
  int fd_ = -1;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace anchorage::io
