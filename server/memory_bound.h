// The server's memory as a function of the run (README, "Memory"), an
// upper bound for honest workers, and the cgroup limit it must fit in. The
// server logs the bound at start and refuses a configuration whose bound
// exceeds the cgroup's memory limit, naming both, instead of being killed
// for it later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config/run_config.h"

namespace anchorage::server {

struct MemoryBound {
  // Vectors of the model's dimension the server may hold at once.
  int64_t model_copies = 0;
  int64_t model_bytes = 0;    // model_copies × 4 × dim
  int64_t message_bytes = 0;  // received messages in flight
  int64_t data_bytes = 0;     // the test set the server evaluates on
  int64_t total() const { return model_bytes + message_bytes + data_bytes; }
};

// For `config` with a model of `dim` parameters, pushes of at most
// `push_bytes`, pushes relative to kept bases when `relative`, and
// `data_bytes` of data, with K = config::PublishEvery and S =
// --max-staleness:
//   slots m; kept bases 3 sync (shared), async min(2m, S/K + 2) with S,
//   else 2m (a straggler may pin two old ones); the aggregator's anchor,
//   sums and outer buffers 7 (10 async with anchor momentum: its last
//   step's anchor and offset); the published anchor 1; the decode buffer,
//   the evaluator's copy 2; anchors in flight 2 sync, async
//   min(m + 1, ceil(m/K) + 2) (the snapshots of one round of pushes, for
//   workers that read their replies within a round); with checkpoints a
//   snapshot of slots, bases and buffers; and one push in flight per
//   worker (a worker pushes again only once its previous push is answered),
//   or --push-credits of them when that is fewer.
MemoryBound ServerMemoryBound(const config::RunConfig& config, int64_t dim,
                              int64_t push_bytes, bool relative,
                              int64_t data_bytes);

// The push credits a run of `workers` workers runs with when
// --push-credits is auto (0): none (0) when `bound`, computed without a
// limit on pushes in flight, fits `limit`; else the most pushes of
// `push_bytes` in flight whose bound fits it, at least 1.
int64_t AutoPushCredits(const MemoryBound& bound, int64_t push_bytes,
                        int64_t workers, int64_t limit);

// The memory limit of the cgroup under `root` (v2 memory.max, else v1
// memory/memory.limit_in_bytes); nullopt when there is none ("max", or a
// v1 value of 2^62 or more, or no file).
std::optional<int64_t> CgroupMemoryLimit(
    const std::string& root = "/sys/fs/cgroup");

}  // namespace anchorage::server
