// The events the round core (anchor_round.h) takes and the effects it
// returns: what workers ask of the server and what the server must do about
// it, as plain values. The ZeroMQ server turns wire messages into events
// (common/transport/protocol.h) and effects back into messages; the
// simulator delivers them on its virtual clock; tests read them directly.
//
// Payload views inside an event are only read during the call that takes
// the event.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace anchorage::algo {

// ---- Events: what a worker sent ----

// A worker starting or reconnecting, with what it must agree on.
struct JoinRequest {
  uint32_t worker = 0;
  uint64_t incarnation = 0;  // grows with every (re)connection
  uint64_t model_dim = 0;
  std::string algorithm;
  std::string codec;
  std::string codec_settings;  // codec::Codec::settings()
  // The server shard (model slice) the worker joins, of how many; checked
  // by the server, not the round core (config/server_shards.h).
  uint32_t server_shard = 0;
  uint32_t server_shards = 1;
};

// What a worker reports with every push, accepted or not.
struct WorkerReport {
  uint64_t samples = 0;          // examples since its previous push
  uint64_t local_steps = 0;      // steps since its previous push
  float train_loss = 0;          // their mean loss
  double compute_seconds = 0;    // cumulative
  double sync_wait_seconds = 0;  // cumulative
  double encode_seconds = 0;     // cumulative
  // Cumulative: pushes encoded by a quantizing codec (qsgd, dqsgd) and the
  // sum of their bits per coordinate (Codec::quantization_bits()).
  uint64_t quantized_pushes = 0;
  uint64_t quantization_bits_sum = 0;
  // Unix time (ns, the worker's clock) when its process began its first
  // local step; 0 when unknown (an older worker, the simulator).
  int64_t first_step_unix_ns = 0;
};

// A contribution for `round`, relative to anchor `base_version`.
struct PushRequest {
  uint32_t worker = 0;
  uint64_t round = 0;
  uint64_t base_version = 0;
  std::string codec;
  int64_t sent_unix_ns = 0;  // echoed back to measure the round trip
  // Unix time (ns, the server's clock) when the push arrived: the latest
  // wall-clock time its report may name; 0 when there is no wall clock
  // (the simulator).
  int64_t received_unix_ns = 0;
  WorkerReport report;
  std::vector<std::span<const uint8_t>> payloads;  // exactly one is valid
};

// The answer to a Query: the worker's exact values at the candidates.
struct ValuesReply {
  uint32_t worker = 0;
  uint64_t round = 0;
  std::vector<std::span<const uint8_t>> payloads;  // exactly one is valid
};

// ---- Effects: what the server must send or record ----

enum class Refusal {
  kBadMessage,
  kUnknownWorker,
  kWrongDimension,
  kWrongAlgorithm,
  kWrongCodec,
  kIdentityInUse,  // the worker id is held by another live connection
};

// To the worker that joined: the current anchor, its version and the round
// it pushes next.
struct Welcome {
  uint32_t worker = 0;
  uint64_t version = 0;
  uint64_t next_round = 0;
  uint32_t workers = 0;
  uint64_t schedule_step = 0;  // as in AnchorUpdate
};

// To `worker`: the current anchor (version `version`) and the round it may
// start. `schedule_step` is the run's progress in one worker's local steps
// (the examples reported so far over workers x batch): a worker behind it,
// a straggler in async mode, moves its learning-rate schedule up to it, so
// every worker decays its rate when the run does. `applied` (rounds of sketch
// and global-topk the worker contributed its exact values to) lists the
// coordinates the round applied, where the worker clears its error feedback.
struct AnchorUpdate {
  uint32_t worker = 0;
  uint64_t version = 0;
  uint64_t next_round = 0;
  int64_t push_sent_unix_ns = 0;  // of the push this answers, 0 if none
  std::shared_ptr<const std::vector<uint32_t>> applied;
  uint64_t schedule_step = 0;
};

// To `worker`: the second round of a sketch round, asking for its exact
// values at `candidates`.
struct Query {
  uint32_t worker = 0;
  uint64_t round = 0;
  std::shared_ptr<const std::vector<uint32_t>> candidates;
};

// To the sender of the event: why it was refused. `reason` is the
// low-cardinality label of the rejected-messages metric.
struct Refused {
  uint32_t worker = 0;
  Refusal code = Refusal::kBadMessage;
  std::string reason;
  std::string text;
  bool was_push = false;  // a refused contribution, counted as such
};

// The run is complete: tell every worker.
struct Finished {
  std::string reason;
};

// Observations for metrics.
struct PushApplied {
  uint32_t worker = 0;
  double staleness = 0;  // versions between its base and the anchor it met
  int64_t push_sent_unix_ns = 0;
};
struct PushStale {
  uint32_t worker = 0;
};
struct VersionPublished {
  uint64_t version = 0;
  double seconds_since_previous = 0;
  // Sync rounds: from the round's first contribution to its close.
  double straggler_seconds = 0;
  bool sync = false;
};
struct MembershipChanged {
  enum class Change { kJoined, kRejoined, kLeft, kLost };
  uint32_t worker = 0;
  Change change = Change::kJoined;
  uint64_t incarnation = 0;
  int live_workers = 0;
  std::string reason;  // kLeft: what the worker said
};

using Effect =
    std::variant<Welcome, AnchorUpdate, Query, Refused, Finished, PushApplied,
                 PushStale, VersionPublished, MembershipChanged>;
using Effects = std::vector<Effect>;

}  // namespace anchorage::algo
