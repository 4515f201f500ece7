// The anchor-aggregation service (`anchorage server`): binds a ZeroMQ ROUTER
// for workers and runs the round core (algo::AnchorRound) on what arrives:
// it turns verified messages into events, carries out the effects (welcome,
// anchor, query, refusal, done), grants push credits (push_credits.h),
// watches heartbeats, keeps the metrics, evaluates the anchor on held-out
// data, and stops when the round core says the run is complete, telling
// workers Done. Every decision about the round
// is the round core's; this class owns the sockets and the clocks.
//
// Recovery (DESIGN.md section 10): with --checkpoint-dir the round state is
// checkpointed every --checkpoint-interval (snapshot on the serving thread,
// write on another, checkpointer.h) and when the run stops; Create resumes
// the newest checkpoint of the same run. A run stopped before it completed
// does not tell workers Done when it will resume, so they ride through the
// restart; without checkpoints they are told Done, not completed.
//
// Run() is the event loop and runs on the calling thread, which then owns
// the socket and all state; only RequestStop() may be called from
// elsewhere (a signal handler).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <prometheus/registry.h>
#include <zmq.hpp>

#include "common/algo/anchor_round.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"
#include "common/io/checkpoint.h"
#include "common/model/model.h"
#include "common/summary/run_summary.h"
#include "common/transport/curve.h"
#include "common/transport/protocol.h"
#include "server/checkpointer.h"
#include "server/evaluator.h"
#include "server/push_credits.h"
#include "server/refusal_limiter.h"
#include "server/server_metrics.h"

namespace anchorage::server {

class Server {
 public:
  // Loads the test split, builds the initial anchor and the round core (or
  // resumes it from --checkpoint-dir), binds the ROUTER. Returns the first
  // error (data files, codec, another run's checkpoint, no loadable
  // checkpoint, bind) as a Status. `context` and `registry` must outlive
  // the server.
  static StatusOr<std::unique_ptr<Server>> Create(
      const config::RunConfig& config, zmq::context_t* context,
      prometheus::Registry* registry);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // The bound endpoint with its real port ("tcp://127.0.0.1:40123").
  const std::string& endpoint() const { return endpoint_; }
  int64_t model_dim() const { return round_->dim(); }
  // The current anchor (after Run(): the final one).
  std::span<const float> anchor() const { return round_->anchor(); }

  // Called on the serving thread with every anchor version the round core
  // publishes, before it is sent. Set before Run().
  void set_on_version(
      std::function<void(uint64_t, std::span<const float>)> on_version) {
    on_version_ = std::move(on_version);
  }

  // Serves until the run is complete, RequestStop() is called, or no worker
  // was live for --idle-timeout; then writes the last checkpoint (when
  // enabled), evaluates the final anchor, tells the workers Done (see
  // above) and returns the summary (settings included; demo_wall_seconds
  // unset). An error when the last checkpoint cannot be written.
  StatusOr<summary::RunSummary> Run();
  // After Run(): whether the run completed (its budget was reached).
  bool completed() const { return finished_; }

  // Asks Run() to finish; safe from any thread and from signal handlers.
  void RequestStop() { stop_requested_.store(true); }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kReceiveHwm = 16;
  static constexpr std::chrono::seconds kRefusalSummaryInterval{10};

  // A worker's connection: where to send, and when it was last heard and
  // last sent to (heartbeats).
  struct Peer {
    std::string routing_id;
    Clock::time_point last_seen;
    Clock::time_point last_sent;
  };

  Server(const config::RunConfig& config, zmq::context_t* context,
         prometheus::Registry* registry, data::Dataset test,
         std::unique_ptr<model::Model> model,
         std::unique_ptr<algo::AnchorRound> round, const Resumed& resumed,
         int64_t push_credits);

  // Logs the server's memory bound (memory_bound.h) and returns the push
  // credits it runs with (--push-credits, auto resolved against the
  // cgroup's memory limit); InvalidArgument when the bound exceeds that
  // limit even so.
  static StatusOr<int64_t> CheckMemory(const config::RunConfig& config,
                                       const algo::AnchorRound& round,
                                       const data::Dataset& test);
  // With --curve-secret-key: the ZAP handler admitting the listed keys.
  Status StartCurve();
  Status Bind();
  // Run()'s parts: the resumed peers and the log line; the event loop,
  // which sets *idle when no worker was live for --idle-timeout; and the
  // end (the last checkpoint, Done, the summary).
  void BeginServing();
  Status Serve(bool* idle);
  StatusOr<summary::RunSummary> EndRun(bool idle);
  // The round core's clock: seconds since the server was created, after
  // those of the run it resumed.
  double Now() const;
  void HandleIncoming();
  void Dispatch(const std::string& routing_id, transport::Message message);
  // A push: refused without a credit, else handed to the round core, and
  // its credit passed on.
  void HandlePush(const std::string& routing_id,
                  const transport::Message& message);
  // Sends each grant to its worker and updates the waiting gauge.
  void SendCredits(const std::vector<PushCredits::Grant>& grants);
  // Carries out the round core's effects of an event from `requester`.
  void Execute(const std::string& requester, const algo::Effects& effects);
  void Observe(const algo::Effect& effect);
  // A message refused before it reached the round core: counted here
  // (the round core counts its own), then refused.
  void Reject(const std::string& routing_id, uint32_t worker_id,
              const std::string& reason, algo::Refusal code,
              const std::string& text);
  void CountRejection(const std::string& reason);
  // The metric, a log line and an Error reply, the last two within the
  // peer's share (refusal_limiter.h).
  void Refuse(const std::string& routing_id, uint32_t worker_id,
              const std::string& reason, algo::Refusal code,
              const std::string& text);
  // Why a Join from `routing_id` may not take its worker id, which another
  // live connection holds (DESIGN.md section 3); nullopt when it may.
  std::optional<std::string> HeldElsewhere(const std::string& routing_id,
                                           const algo::JoinRequest& request);
  void CheckHeartbeats(Clock::time_point now);
  void MaybeEvaluate(Clock::time_point now);
  // No live worker for --idle-timeout.
  bool IdleTooLong(Clock::time_point now);
  void MaybeCheckpoint(Clock::time_point now);
  // The round state as a checkpoint: the one copy the serving loop makes.
  io::Checkpoint Snapshot();
  void RecordCheckpoint(const CheckpointWrite& write);
  // Waits for a write in progress, then writes the current state.
  Status WriteLastCheckpoint();
  void RecordEvaluation(const EvalResult& result);
  // Evaluates the final anchor and builds the summary; tells live workers
  // Done when `tell_done`.
  summary::RunSummary Finish(const std::string& stop_reason, bool tell_done);
  void AnswerDoneWhileDraining(const std::string& stop_reason);

  // Sends to worker `id` over its connection.
  void SendTo(uint32_t id, transport::Frames frames);
  void Send(const std::string& routing_id, transport::Frames frames);
  static transport::Frames Addressed(const std::string& routing_id,
                                     transport::Frames frames);
  // The published anchor, encoded once by the round core and shared by
  // every frame that carries it.
  zmq::message_t AnchorFrame();

  config::RunConfig config_;
  zmq::context_t* context_;
  ServerMetrics metrics_;
  data::Dataset test_;  // what the anchor is evaluated on
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<algo::AnchorRound> round_;
  // Encodes the anchors sent down: --anchor-codec (dense, fp16 or bf16),
  // whatever compresses the pushes.
  std::unique_ptr<codec::Codec> anchor_codec_;
  std::unique_ptr<Evaluator> evaluator_;
  std::function<void(uint64_t, std::span<const float>)> on_version_;

  std::unique_ptr<transport::ZapHandler> zap_;  // null: plaintext
  std::string curve_secret_;
  zmq::socket_t router_;
  std::string endpoint_;
  transport::EnvelopeBuilder builder_;

  std::map<uint32_t, Peer> peers_;
  std::atomic<bool> stop_requested_{false};
  bool finished_ = false;

  std::unique_ptr<Checkpointer> checkpointer_;  // null: no --checkpoint-dir
  io::Fingerprint fingerprint_;
  Resumed resumed_;
  Clock::time_point next_checkpoint_;
  Clock::time_point last_live_;

  Clock::time_point start_;
  Clock::time_point next_eval_;
  uint64_t last_evaluated_version_ = UINT64_MAX;
  // What only the transport sees: wire bytes, messages refused before the
  // round core, evaluations.
  int64_t bytes_up_ = 0;
  int64_t bytes_down_ = 0;
  int64_t rejected_messages_ = 0;
  std::map<std::string, int64_t> rejected_by_reason_;
  RefusalLimiter refusals_;
  PushCredits credits_;
  Clock::time_point next_refusal_summary_;
  std::vector<summary::Evaluation> evaluations_;
};

}  // namespace anchorage::server
