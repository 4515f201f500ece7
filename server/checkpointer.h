// Writes the server's checkpoints (io/checkpoint.h) off the serving thread:
// the serving loop takes a snapshot of the round state (one copy) and hands
// it over; a writer thread encodes, checksums and writes it by the atomic
// protocol. At most one write runs at a time; a snapshot offered while one
// runs is declined, and the loop offers again later.
//
// Start(), Poll() and Wait() are called from the serving thread only.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/io/checkpoint.h"

namespace anchorage::server {

struct CheckpointWrite {
  StatusOr<std::string> path;  // the file written, or why not
  uint64_t version = 0;
  size_t bytes = 0;
  double seconds = 0;  // encoding and writing
};

class Checkpointer {
 public:
  explicit Checkpointer(std::string dir) : dir_(std::move(dir)) {}
  // Waits for a write in progress.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  Checkpointer(Checkpointer&&) = delete;
  Checkpointer& operator=(Checkpointer&&) = delete;

  const std::string& dir() const { return dir_; }
  bool busy() const { return running_.valid(); }
  // Starts writing `checkpoint` on the writer thread; false (and nothing
  // done) while the previous write runs.
  bool Start(io::Checkpoint checkpoint);
  // The write that finished since the last call, if any; never blocks.
  std::optional<CheckpointWrite> Poll();
  // Waits for the write in progress; nullopt when none ran.
  std::optional<CheckpointWrite> Wait();

 private:
  std::string dir_;
  std::future<CheckpointWrite> running_;
};

}  // namespace anchorage::server
