// The server's side of checkpoints (io/checkpoint.h): resuming the newest
// one of the same run at start, and writing them off the serving thread:
// the serving loop takes a snapshot of the round state (one copy) and hands
// it over; a writer thread encodes, checksums and writes it by the atomic
// protocol. At most one write runs at a time; a snapshot offered while one
// runs is declined, and the loop offers again later.
//
// Start(), Poll() and Wait() are called from the serving thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/algo/anchor_round.h"
#include "common/base/status.h"
#include "common/io/checkpoint.h"
#include "common/summary/run_summary.h"

namespace anchorage::server {

// What a resumed run carries over from its checkpoint; a fresh run has a
// random run id and zeros.
struct Resumed {
  uint64_t run_id = 0;
  int64_t restarts = 0;
  uint64_t version = 0;
  double clock_seconds = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t rejected_messages = 0;
  std::vector<summary::Evaluation> evaluations;
};

// The evaluations as io::Checkpoint carries them (four numbers each).
std::vector<double> EvaluationNumbers(
    const std::vector<summary::Evaluation>& evaluations);

using MakeRound = std::function<StatusOr<std::unique_ptr<algo::AnchorRound>>()>;

// Resumes into *round (each attempt on a fresh one from `make_round`) the
// newest checkpoint in `dir` (empty: none) of the run `fingerprint` names,
// logging each file refused by name and trying the one before. Returns
// what the run carries over, a fresh run's when there is no checkpoint;
// FailedPrecondition naming each differing flag for another run's
// checkpoint, DataLoss when checkpoints are there but none loads.
StatusOr<Resumed> Resume(const std::string& dir,
                         const io::Fingerprint& fingerprint,
                         const MakeRound& make_round,
                         std::unique_ptr<algo::AnchorRound>* round);

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
