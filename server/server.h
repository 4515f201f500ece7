// The anchor-aggregation service (`anchorage server`): binds a ZeroMQ ROUTER
// for workers, owns the anchor through algo::Aggregator, publishes new
// versions, watches heartbeats, evaluates the anchor on held-out data, and
// stops after the configured epochs or versions, telling workers Done.
//
// Run() is the event loop and runs on the calling thread, which then owns
// the socket and all state; only RequestStop() may be called from
// elsewhere (a signal handler).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <prometheus/registry.h>
#include <zmq.hpp>

#include "common/algo/aggregator.h"
#include "common/algo/sketch_step.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/codec/dense_codec.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"
#include "common/model/model.h"
#include "common/transport/wire.h"
#include "server/evaluator.h"
#include "server/server_metrics.h"

namespace anchorage::server {

// What the run achieved; also written as the summary JSON.
struct ServerSummary {
  uint64_t anchor_version = 0;
  double test_accuracy = 0;
  double test_loss = 0;
  double wall_seconds = 0;
  double epochs = 0;
  int64_t samples = 0;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t raw_bytes_up = 0;
  int64_t pushes_applied = 0;
  int64_t pushes_rejected = 0;
  int64_t pushes_stale = 0;
  int64_t rejected_messages = 0;
  double staleness_mean = 0;
  double sync_wait_seconds_mean = 0;
  double compute_seconds_mean = 0;
  double encode_seconds_mean = 0;
  double train_loss = 0;
  std::vector<uint32_t> lost_workers;
  std::string stop_reason;
  // (seconds since start, anchor version, accuracy, loss) per evaluation.
  struct Point {
    double seconds;
    uint64_t version;
    double accuracy;
    double loss;
  };
  std::vector<Point> evaluations;
};

class Server {
 public:
  // Loads the dataset, builds the initial anchor, binds the ROUTER. Returns
  // the first error (data files, bind) as a Status. `context` and `registry`
  // must outlive the server.
  static StatusOr<std::unique_ptr<Server>> Create(
      const config::RunConfig& config, zmq::context_t* context,
      prometheus::Registry* registry);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound endpoint with its real port ("tcp://127.0.0.1:40123").
  const std::string& endpoint() const { return endpoint_; }
  int64_t model_dim() const { return aggregator_.dim(); }
  // The current anchor (after Run(): the final one).
  std::span<const float> anchor() const { return aggregator_.anchor(); }

  // Serves until the run is complete or RequestStop() is called, then
  // evaluates the final anchor, tells every worker Done and returns the
  // summary.
  StatusOr<ServerSummary> Run();

  // Asks Run() to finish; safe from any thread and from signal handlers.
  void RequestStop() { stop_requested_.store(true); }

 private:
  using Clock = std::chrono::steady_clock;

  struct WorkerState {
    std::string routing_id;
    uint64_t incarnation = 0;
    bool live = false;
    Clock::time_point last_seen;
    Clock::time_point last_sent;
    uint64_t next_round = 0;
    double compute_seconds = 0;
    double sync_wait_seconds = 0;
    double encode_seconds = 0;
    float train_loss = 0;
    bool has_loss = false;
    // Relative pushes (algo/push_codec.h): the last two anchors sent to
    // this worker, which its next push may name as its base.
    struct Base {
      uint64_t version = UINT64_MAX;
      std::shared_ptr<const std::vector<float>> values;
    };
    Base bases[2];
  };

  Server(const config::RunConfig& config, zmq::context_t* context,
         prometheus::Registry* registry, data::TrainTest data,
         std::unique_ptr<model::Model> model,
         std::unique_ptr<codec::Codec> codec, std::vector<float> initial);

  Status Bind();
  void HandleIncoming();
  void Dispatch(const std::string& routing_id, transport::Message message);
  void HandleJoin(const std::string& routing_id,
                  const transport::Message& message);
  void HandlePush(const std::string& routing_id,
                  const transport::Message& message);
  void HandleLeave(uint32_t id, const std::string& reason);
  // Codec sketch's second round: the exact values a worker was asked for.
  void HandleValues(const std::string& routing_id,
                    const transport::Message& message);
  // Codec sketch: asks every contributor of the round for its exact values
  // at the candidates of the summed sketch.
  void StartQuery(Clock::time_point now);
  void Reject(const std::string& routing_id, uint32_t worker_id,
              const std::string& reason, proto::ErrorCode code,
              const Status& status);
  // Reject() for a Push, also counted as a rejected contribution.
  void RejectPush(const std::string& routing_id, uint32_t worker_id,
                  const std::string& reason, proto::ErrorCode code,
                  const Status& status);
  void CheckHeartbeats(Clock::time_point now);
  void MaybeCloseRound(Clock::time_point now, bool deadline_passed);
  void CloseRound(Clock::time_point now);
  void MaybeEvaluate(Clock::time_point now);
  void RecordEvaluation(const EvalResult& result);
  bool RunComplete(std::string* reason) const;
  // The base learning rate γ_t at the start of `round` (τ local steps each).
  double LearningRateOfRound(uint64_t round) const;
  void Finish(ServerSummary* summary);
  void AnswerDoneWhileDraining();

  // `applied`: codec sketch, the coordinates the round applied, sent to the
  // workers whose exact values it used.
  void SendAnchor(uint32_t id, WorkerState& worker, uint64_t next_round,
                  int64_t push_sent_unix_ns,
                  const std::vector<uint32_t>* applied = nullptr);
  void SendWelcome(uint32_t id, WorkerState& worker);
  void SendHeartbeat(uint32_t id, WorkerState& worker);
  void SendError(const std::string& routing_id, uint32_t worker_id,
                 proto::ErrorCode code, const std::string& text);
  void SendDone(uint32_t id, WorkerState& worker, const std::string& reason);
  void Send(const std::string& routing_id, std::vector<zmq::message_t> frames);
  // The current anchor, encoded once per version and shared by every frame
  // that carries it.
  zmq::message_t AnchorFrame();
  // Remembers the current anchor as a base of `worker`'s next push.
  void RecordBase(WorkerState& worker);
  // The anchor `version` if `worker` may name it as a base, else nullptr.
  const std::vector<float>* FindBase(const WorkerState& worker,
                                     uint64_t version) const;
  int LiveWorkers() const;

  config::RunConfig config_;
  config::Algorithm algorithm_;
  algo::AggregationMode aggregation_;
  zmq::context_t* context_;
  ServerMetrics metrics_;
  data::TrainTest data_;
  std::unique_ptr<model::Model> model_;
  algo::Aggregator aggregator_;
  // The local optimizer's schedule: the outer rule's γ_t follows it.
  optim::SgdOptions schedule_;
  // Decodes pushes; anchors travel dense whatever the push codec.
  std::unique_ptr<codec::Codec> codec_;
  codec::DenseCodec anchor_codec_;
  bool relative_pushes_;
  // The sketched codecs' round step (nullptr for the other codecs). While
  // `querying_`, the round waits for the exact values of
  // `awaiting_values_`; `values_used_` are the workers whose values it has.
  std::unique_ptr<algo::SketchStep> sketch_step_;
  bool querying_ = false;
  std::set<uint32_t> awaiting_values_;
  std::set<uint32_t> values_used_;
  std::unique_ptr<Evaluator> evaluator_;

  zmq::socket_t router_;
  std::string endpoint_;
  transport::EnvelopeBuilder builder_;
  std::vector<float> decoded_;  // scratch for incoming contributions
  std::shared_ptr<transport::SharedSendBuffer> anchor_bytes_;
  uint64_t anchor_bytes_version_ = UINT64_MAX;
  // The current anchor's values, kept as a base of relative pushes.
  WorkerState::Base anchor_values_;

  std::map<uint32_t, WorkerState> workers_;
  std::atomic<bool> stop_requested_{false};

  Clock::time_point start_;
  Clock::time_point last_version_time_;
  Clock::time_point round_opened_;
  Clock::time_point first_in_round_;
  Clock::time_point next_eval_;
  uint64_t last_evaluated_version_ = UINT64_MAX;
  int64_t samples_ = 0;
  ServerSummary stats_;
  double staleness_sum_ = 0;
  model::Evaluation last_eval_;
  bool has_eval_ = false;
};

// Writes `summary` with the run's settings as the summary JSON.
Status WriteSummaryJson(const std::string& path,
                        const config::RunConfig& config,
                        const ServerSummary& summary);

}  // namespace anchorage::server
