// Checkpoint files (DESIGN.md section 10): a server's round state with what
// identifies the run, versioned and checksummed, written atomically into a
// directory that keeps the last two.
//
// A file "checkpoint-<sequence>.anck" is: the 8-byte magic "ANCHCKPT", a
// u32 format version, a u64 body length, the body, and the CRC-32 (zlib)
// of everything before it. The body (common/base/bytes.h) holds the anchor
// version, the run's id, the run's restarts so far, the server's clock and
// transport counters, the
// fingerprint (flag name → value) and the round state's bytes. A truncated,
// corrupt or foreign file is refused with a DataLoss naming it.
//
// Thread-safety: free functions on values; one writer per directory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/io/file.h"

namespace anchorage::io {

using Fingerprint = std::map<std::string, std::string>;

struct Checkpoint {
  uint64_t version = 0;      // the anchor version the state holds
  uint64_t run_id = 0;       // the run's random id, kept across restarts
  int64_t restarts = 0;      // resumptions of the run before this state
  double clock_seconds = 0;  // the round core's clock at the snapshot
  // What the server's transport counted (wire bytes each way, messages
  // refused before the round core), so a resumed summary adds up.
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t rejected_messages = 0;
  // The test-set evaluations so far, four numbers each: seconds, anchor
  // version, accuracy, loss.
  std::vector<double> evaluations;
  Fingerprint fingerprint;
  std::vector<uint8_t> state;
};

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& checkpoint);
// DataLoss naming `name` and the problem.
StatusOr<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> bytes,
                                      const std::string& name);

// Writes `checkpoint` into `dir` (created if missing) as the next file in
// sequence, then removes all but the newest two and any temporary file a
// crashed writer left. Returns the new file's path.
StatusOr<std::string> WriteCheckpoint(const std::string& dir,
                                      const Checkpoint& checkpoint,
                                      const WriteHooks& hooks = {});

struct LoadedCheckpoint {
  Checkpoint checkpoint;
  std::string path;
};

// The newest checkpoint in `dir` that reads back whole and that `accept`
// takes, trying older ones in turn: a file that does not decode, or that
// `accept` answers with DataLoss, is refused, its path and problem appended
// to *refused. Any other error from `accept` (another run's fingerprint)
// is returned as it is. nullopt when `dir` holds no acceptable checkpoint
// (or does not exist).
StatusOr<std::optional<LoadedCheckpoint>> LoadNewestCheckpoint(
    const std::string& dir,
    const std::function<Status(const Checkpoint&, const std::string& path)>&
        accept,
    std::vector<std::string>* refused);

// The keys whose values differ between two fingerprints, each as
// "--lr is 0.1 there, 0.05 here" (a key missing on one side reads
// "unset"), joined by "; " — empty when they agree.
std::string FingerprintDifference(const Fingerprint& saved,
                                  const Fingerprint& current);

}  // namespace anchorage::io
