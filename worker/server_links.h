// The compute thread's link to the anchor service: one Communicator
// (communicator.h) per server shard, each with its own socket, codec state
// and thread, so that every shard's protocol (join, credits, rejoin after
// a restart) runs on its own and the slices encode side by side.
// Unsharded, the one communicator as it is.
//
// SendPush cuts a push into the shards' slices (algo/model_slice.h), each
// relative to that shard's own anchor, and skips the shards that said the
// run completed; Receive hands on what ShardAssembler assembles.
//
// Called from the one thread that constructed it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/algo/model_slice.h"
#include "common/algo/push_codec.h"
#include "common/transport/curve.h"
#include "worker/communicator.h"
#include "worker/shard_assembler.h"
#include "worker/worker_metrics.h"

namespace anchorage::worker {

// One shard's endpoint, CURVE keys and push codec (of its slice).
struct ShardLink {
  std::string server;
  std::optional<transport::CurveClientKeys> curve;
  algo::PushEncoder encoder;
};

class ServerLinks {
 public:
  // `links` shard 0 first; `options` hold what every shard shares (its
  // server, keys, dimension and shard are set per link). `metrics` must
  // outlive this.
  ServerLinks(zmq::context_t& context, const CommunicatorOptions& options,
              int64_t model_dim, std::vector<ShardLink> links,
              WorkerMetrics* metrics);

  void SendPush(std::unique_ptr<OutgoingPush> push);
  // Waits up to `timeout` for the next delivery; nullptr when none came.
  std::unique_ptr<Delivery> Receive(std::chrono::milliseconds timeout);
  void LeaveOnStop();

 private:
  std::vector<algo::ModelSlice> slices_;
  std::vector<std::unique_ptr<Communicator>> communicators_;
  std::optional<ShardAssembler> assembler_;  // sharded only
};

}  // namespace anchorage::worker
