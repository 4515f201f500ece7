// The training worker (`anchorage worker`): local steps on its data shard
// in the calling thread, synchronising with the server's anchor through a
// Communicator thread. What to do at each point of a round is the worker
// sync policy's (algo::WorkerSync): Overlap-Local-SGD pulls toward the
// newest anchor that has arrived and hands the pulled model over without
// waiting; Local SGD sends, waits for the round's average and adopts it.
// Time blocked at sync points is measured apart from compute time.
//
// Run() must be called from one thread; RequestStop() from any thread or a
// signal handler.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <prometheus/registry.h>
#include <zmq.hpp>

#include "common/algo/push_codec.h"
#include "common/algo/trainer.h"
#include "common/algo/worker_round.h"
#include "common/algo/worker_sync.h"
#include "common/base/status.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"
#include "common/transport/curve.h"
#include "worker/server_links.h"
#include "worker/worker_metrics.h"

namespace anchorage::worker {

struct WorkerResult {
  // Anchor version this worker started from (its Welcome's).
  uint64_t joined_at_version = 0;
  int64_t local_steps = 0;
  int64_t rounds = 0;
  double compute_seconds = 0;
  double sync_wait_seconds = 0;
  std::string end_reason;
};

class Worker {
 public:
  // Loads this worker's shard of the dataset (only its rows are kept) and
  // builds the model.
  // `context` and `registry` must outlive the worker.
  static StatusOr<std::unique_ptr<Worker>> Create(
      const config::RunConfig& config, zmq::context_t* context,
      prometheus::Registry* registry);

  // Trains until the server says Done (ok), RequestStop() (ok, after telling
  // the server), or the server is unreachable or refuses this worker
  // (Unavailable / FailedPrecondition).
  StatusOr<WorkerResult> Run();

  void RequestStop() { stop_requested_.store(true); }
  // Called on the training thread once the server has welcomed this worker
  // (readiness). Set before Run().
  void set_on_joined(std::function<void()> on_joined) {
    on_joined_ = std::move(on_joined);
  }

 private:
  // `shard` is this worker's data; `rows` the rows of it the trainer
  // samples (all of them).
  Worker(const config::RunConfig& config, zmq::context_t* context,
         prometheus::Registry* registry, data::Dataset shard,
         std::vector<int64_t> rows, std::unique_ptr<model::Model> model,
         const optim::SgdOptions& sgd, std::vector<float> initial,
         std::vector<ShardLink> links);

  // Does what `sync` asks now; returns false when the run is over
  // (`end_status_` and `end_reason_` say how).
  bool Act(algo::WorkerSync::Action action, algo::WorkerSync& sync,
           algo::WorkerRound<float>& logic, ServerLinks& comm);
  // τ local steps, padded to --min-step-time and stretched by --slowdown.
  void Compute(algo::WorkerRound<float>& logic, const algo::WorkerSync& sync);
  // Waits up to 100 ms for a delivery and applies it; false when the run is
  // over.
  bool WaitForDelivery(ServerLinks& comm, algo::WorkerSync& sync);
  // Takes deliveries without waiting. Returns false when the run is over.
  bool DrainDeliveries(ServerLinks& comm, algo::WorkerSync& sync);
  // Applies one delivery; returns false when the run is over.
  bool Apply(std::unique_ptr<Delivery> delivery, algo::WorkerSync& sync);
  // Hands a copy of `contribution` for `round` to the communication thread.
  void Push(ServerLinks& comm, uint64_t round,
            std::span<const float> contribution);

  config::RunConfig config_;
  zmq::context_t* context_;
  WorkerMetrics metrics_;
  data::Dataset shard_;
  algo::Trainer trainer_;
  // Every server shard's endpoint, keys and push codec, until Run() hands
  // them to the communication threads.
  std::vector<ShardLink> links_;

  std::atomic<bool> stop_requested_{false};
  std::function<void()> on_joined_;

  // The newest anchor received.
  std::shared_ptr<const Delivery> latest_;
  Status end_status_;
  std::string end_reason_;
  WorkerResult result_;
  uint64_t samples_since_push_ = 0;
  // When this process began its first local step (unix ns; 0: not yet).
  int64_t first_step_unix_ns_ = 0;
  double last_loss_ = 0;
  // Blocked at the current sync point so far.
  double wait_seconds_ = 0;
  bool started_ = false;
};

}  // namespace anchorage::worker
