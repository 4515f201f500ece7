// The worker's communication thread. It owns the DEALER socket to the
// server and the push codec (with its error-feedback state): joins,
// encodes and sends the pushes the compute thread hands it, receives and
// decodes anchors, answers the second round of codecs decided on the whole
// round (through the codec's own hooks), asks for a credit before each push
// when the server limits pushes in flight (its Welcome says so; see
// server/push_credits.h), heartbeats, delays messages by the injected link
// (link_delay.h), and rebuilds the connection (fresh socket, so a fresh DNS
// resolve) with backoff when the server falls silent.
//
// Riding through a server restart: nothing is queued toward a server that
// is gone (ZMQ_IMMEDIATE, sends never block); once welcomed, a server that
// no longer knows this worker (UnknownWorker, any number of times) makes it
// join again, and a refusal while rejoining is retried with backoff until
// `server_timeout`. Only the first Join's refusal is fatal (a
// misconfigured worker).
//
// The compute thread talks to it only through SendPush() and Receive(),
// which pass ownership of heap objects over an inproc PAIR socket: nothing
// is shared under a lock. Both must be called from the one thread that
// constructed the Communicator.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/algo/algorithm.h"
#include "common/algo/push_codec.h"
#include "common/algo/round_messages.h"
#include "common/algo/worker_sync.h"
#include "common/transport/curve.h"
#include "worker/worker_metrics.h"

namespace anchorage::worker {

struct Delivery;

// A contribution for the server, built by the compute thread. The
// communication thread encodes it, so compression runs beside the compute
// thread's next steps rather than in their way.
struct OutgoingPush {
  uint64_t base_version = 0;
  uint64_t round = 0;
  algo::WorkerReport report;  // its encode_seconds are the thread's own
  // What WorkerRound::Contribution returned, and the anchor it was
  // computed against (the base of a relative push, push_codec.h).
  std::vector<float> contribution;
  std::shared_ptr<const Delivery> base;
};

// What the communication thread hands the compute thread.
struct Delivery {
  enum class Kind {
    kAnchor,  // a Welcome or an Anchor: `header` and `anchor`
    kDone,    // the run is over: `text` says why
    kFatal,   // cannot go on: `text` says why
  };
  Kind kind = Kind::kAnchor;
  algo::AnchorHeader header;
  std::vector<float> anchor;
  std::string text;
  bool completed = false;  // kDone: the run completed (else it was stopped)
  // From a sharded service (shard_assembler.h): each shard's own anchor,
  // shard 0 first, which its slice of the next push is relative to; empty
  // unsharded.
  std::vector<std::shared_ptr<const Delivery>> parts;
};

struct CommunicatorOptions {
  std::string server;
  uint32_t worker_id = 0;
  int64_t model_dim = 0;
  algo::Algorithm algorithm = algo::Algorithm::kOverlapLocalSgd;
  uint64_t shard_size = 0;
  // The server shard this communicator talks to, of how many (its Join
  // says so; `model_dim` is then the slice's).
  uint32_t server_shard = 0;
  uint32_t server_shards = 1;
  std::chrono::milliseconds heartbeat_interval{500};
  int heartbeat_liveness = 20;
  std::chrono::milliseconds server_timeout{60000};
  // Injected link delay, each direction (link_delay.h).
  std::chrono::duration<double> link_latency{0.0};
  double link_bandwidth_bytes = 0.0;
  // CURVE keys (DESIGN.md section 10); empty: plaintext.
  std::optional<transport::CurveClientKeys> curve;
};

class Communicator {
 public:
  // Starts the thread, which connects and sends Join at once; it owns
  // `encoder` from then on. `metrics` must outlive the communicator.
  Communicator(zmq::context_t& context, const CommunicatorOptions& options,
               algo::PushEncoder encoder, WorkerMetrics* metrics);
  // Stops the thread (sending Leave when `leave` was requested) and joins it.
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator(Communicator&&) = delete;
  Communicator& operator=(Communicator&&) = delete;

  // Hands `push` to the thread, which encodes and sends it without blocking
  // the caller. A push that cannot be encoded (the model is no longer
  // finite) ends the run with a kFatal delivery.
  void SendPush(std::unique_ptr<OutgoingPush> push);
  // Waits up to `timeout` for the next delivery; nullptr when none came.
  std::unique_ptr<Delivery> Receive(std::chrono::milliseconds timeout);
  // Makes the destructor tell the server this worker is leaving.
  void LeaveOnStop() { leave_on_stop_ = true; }
  // Readable when a delivery waits, to poll with others (server_links.h).
  zmq::socket_t& deliveries() { return pair_; }

 private:
  class Loop;

  zmq::socket_t pair_;
  std::thread thread_;
  bool leave_on_stop_ = false;
};

}  // namespace anchorage::worker
