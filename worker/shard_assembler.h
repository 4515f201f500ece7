// A worker's view of a sharded anchor service (`--servers`): one
// communication thread per server shard delivers that shard's slice of
// the anchor; this assembles them into deliveries of the whole model for
// the compute thread. Pure logic, no sockets.
//
// An anchor of the whole model is handed on once every shard has sent one,
// and then whenever the round it allows grows (the smallest next_round
// over the shards: a round is complete when every shard has answered it)
// or a shard welcomed the worker (again: a restarted shard, whose round
// may be behind; the worker then resyncs to the smallest round, the shards
// ahead answer its pushes of rounds they have closed as stale, with their
// anchors unchanged, until the restarted one has caught up). Its version
// is the largest of the shards' (all equal in sync rounds); `parts` keeps
// each shard's own delivery, the base its slice of the next push names.
//
// A shard that said the run completed no longer holds the round back; the
// run is done for the worker when every shard has said so. A stop that is
// not a completion, and a fatal delivery, are handed on at once.
//
// Not thread-safe: owned by the compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/algo/model_slice.h"
#include "worker/communicator.h"

namespace anchorage::worker {

class ShardAssembler {
 public:
  // `slices`: every shard's, shard 0 first, covering the model in order.
  explicit ShardAssembler(std::vector<algo::ModelSlice> slices);

  // A delivery from shard `shard`; returns what the compute thread gets
  // now, or nullptr.
  std::unique_ptr<Delivery> Offer(size_t shard,
                                  std::unique_ptr<Delivery> delivery);

  // Whether `shard` said the run completed (it takes no more pushes).
  bool done(size_t shard) const { return parts_.at(shard).done; }

 private:
  struct Part {
    std::shared_ptr<const Delivery> anchor;  // its newest
    bool done = false;
  };

  // The whole model from every shard's newest anchor, when one is due.
  std::unique_ptr<Delivery> MaybeAssemble();

  std::vector<algo::ModelSlice> slices_;
  std::vector<Part> parts_;
  bool welcome_pending_ = false;
  // The round the last anchor handed on allowed.
  std::optional<uint64_t> handed_round_;
};

}  // namespace anchorage::worker
