#include "worker/communicator.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/base/log.h"
#include "common/codec/dense_codec.h"
#include "common/codec/sketch_codec.h"
#include "common/transport/socket.h"
#include "common/transport/wire.h"

namespace anchorage::worker {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Frames on the inproc PAIR: one byte of kind, then a pointer whose
// ownership moves with the frame.
constexpr char kPushFrame = 'P';
constexpr char kStopFrame = 'S';
constexpr char kDeliveryFrame = 'D';

template <typename T>
zmq::message_t PointerFrame(char kind, std::unique_ptr<T> object) {
  zmq::message_t frame(1 + sizeof(T*));
  auto* bytes = static_cast<char*>(frame.data());
  bytes[0] = kind;
  T* raw = object.release();
  std::memcpy(bytes + 1, &raw, sizeof(raw));
  return frame;
}

template <typename T>
std::unique_ptr<T> TakePointer(const zmq::message_t& frame) {
  T* raw = nullptr;
  std::memcpy(&raw, static_cast<const char*>(frame.data()) + 1, sizeof(raw));
  return std::unique_ptr<T>(raw);
}

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Endpoint(const void* owner) {
  return "inproc://communicator-" +
         std::to_string(reinterpret_cast<std::uintptr_t>(owner));
}

}  // namespace

// The thread's state; lives on the communication thread's stack.
class Communicator::Loop {
 public:
  Loop(zmq::context_t& context, const CommunicatorOptions& options,
       algo::PushEncoder encoder, WorkerMetrics* metrics, zmq::socket_t pair)
      : context_(context),
        options_(options),
        metrics_(metrics),
        pair_(std::move(pair)),
        anchor_codec_(options.model_dim),
        encoder_(std::move(encoder)),
        sketch_(dynamic_cast<codec::SketchCodec*>(&encoder_.codec())) {}

  void Run();

 private:
  void Connect();
  void SendJoin();
  void SendEnvelope(proto::Body type, flatbuffers::Offset<void> body,
                    std::vector<uint8_t> payload, bool has_payload);
  void SendPush(std::unique_ptr<OutgoingPush> push);
  void SendLeave();
  std::string CodecName() const { return std::string(encoder_.codec().name()); }
  // Answers the sketch codec's second round from the codec's state.
  void AnswerQuery(const transport::Message& message);
  // Codec sketch: zeroes the accumulators where the round of an anchor
  // applied them (the anchor's second payload frame).
  void ApplySketchUpdate(const transport::Message& anchor);
  void HandleServer();
  // Returns false when the server said Done or refused this worker.
  bool HandleMessage(transport::Message message);
  void Deliver(std::unique_ptr<Delivery> delivery);
  // Delivers through the simulated incoming link when delays are injected.
  void DeliverFromServer(std::unique_ptr<Delivery> delivery, size_t bytes);
  void DeliverFatal(const std::string& text);

  zmq::context_t& context_;
  CommunicatorOptions options_;
  WorkerMetrics* metrics_;
  zmq::socket_t pair_;
  zmq::socket_t dealer_;
  // Anchors travel dense whatever compresses the pushes.
  codec::DenseCodec anchor_codec_;
  algo::PushEncoder encoder_;
  // encoder_'s codec when it is sketch, else nullptr.
  codec::SketchCodec* sketch_;
  double encode_seconds_ = 0;
  // The round of the last encoded push, which a Query may ask about.
  uint64_t encoded_round_ = UINT64_MAX;
  transport::EnvelopeBuilder builder_;

  // A simulated one-way link: when the next message may arrive.
  Clock::time_point Arrival(Clock::time_point* busy_until, size_t bytes) const;
  void FlushDue(Clock::time_point now);
  bool delayed() const {
    return options_.link_latency.count() > 0 ||
           options_.link_bandwidth_bytes > 0;
  }
  // How long the loop may sleep before a delayed message falls due.
  std::chrono::milliseconds UntilNextDue(Clock::time_point now) const;

  struct Outgoing {
    Clock::time_point due;
    std::vector<zmq::message_t> frames;
    size_t bytes;
  };
  struct Incoming {
    Clock::time_point due;
    std::unique_ptr<Delivery> delivery;
  };
  std::deque<Outgoing> outgoing_;
  std::deque<Incoming> incoming_;
  Clock::time_point up_busy_until_;
  Clock::time_point down_busy_until_;
  bool done_received_ = false;

  uint64_t incarnation_ = 0;
  bool welcomed_ = false;
  std::unique_ptr<OutgoingPush> held_push_;  // waiting for a Welcome
  Clock::time_point last_heard_;             // any message from the server
  Clock::time_point last_attempt_;           // last (re)connect
  Clock::time_point last_sent_;
  std::chrono::milliseconds backoff_{100};
};

void Communicator::Loop::Run() {
  last_heard_ = Clock::now();
  Connect();
  const auto liveness =
      options_.heartbeat_interval * options_.heartbeat_liveness;
  // After Done or a fatal error the loop only waits for the stop frame, so
  // every push the compute thread hands over is still taken and freed.
  bool finished = false;
  while (true) {
    StatusOr<std::vector<bool>> readable = transport::Poll(
        {&dealer_, &pair_},
        std::min({options_.heartbeat_interval, std::chrono::milliseconds(100),
                  UntilNextDue(Clock::now())}));
    if (!readable.ok() && !finished) {
      DeliverFatal(readable.status().message());
      finished = true;
    }
    if (readable.ok() && (*readable)[1]) {
      zmq::message_t frame;
      if (pair_.recv(frame, zmq::recv_flags::dontwait)) {
        const char kind = static_cast<const char*>(frame.data())[0];
        if (kind == kStopFrame) {
          if (static_cast<const char*>(frame.data())[1] != 0 && welcomed_ &&
              !finished) {
            SendLeave();
          }
          return;
        }
        std::unique_ptr<OutgoingPush> push = TakePointer<OutgoingPush>(frame);
        if (finished) continue;
        if (welcomed_) {
          SendPush(std::move(push));
        } else {
          held_push_ = std::move(push);
        }
      }
    }
    if (finished) continue;
    if (readable.ok() && (*readable)[0]) HandleServer();
    FlushDue(Clock::now());
    if (done_received_) {
      finished = incoming_.empty();
      continue;
    }

    const Clock::time_point now = Clock::now();
    if (now - last_heard_ > options_.server_timeout) {
      DeliverFatal(
          "server " + options_.server + " unreachable for " +
          std::to_string(static_cast<int>(Seconds(now - last_heard_).count())) +
          " s");
      finished = true;
      continue;
    }
    const Clock::time_point silent_since = std::max(last_heard_, last_attempt_);
    if (now - silent_since > std::max<Clock::duration>(liveness, backoff_)) {
      LOG_WARNING("server silent for %.1f s; reconnecting to %s",
                  Seconds(now - last_heard_).count(), options_.server.c_str());
      metrics_->reconnects.Increment();
      backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2,
                                                     std::chrono::seconds(5));
      Connect();
      continue;
    }
    if (welcomed_ && now - last_sent_ >= options_.heartbeat_interval) {
      SendEnvelope(proto::Body::Heartbeat,
                   proto::CreateHeartbeat(builder_.builder()).Union(), {},
                   false);
    }
  }
}

void Communicator::Loop::Connect() {
  transport::SocketOptions socket_options;
  socket_options.max_message_bytes =
      std::max<int64_t>(anchor_codec_.raw_bytes() * 2 + (1 << 20), 1 << 20);
  socket_options.linger = std::chrono::milliseconds(200);
  StatusOr<zmq::socket_t> dealer = transport::ConnectDealer(
      context_, options_.server, "w" + std::to_string(options_.worker_id),
      socket_options);
  last_attempt_ = Clock::now();
  if (!dealer.ok()) {
    LOG_WARNING("%s", dealer.status().message().c_str());
    return;
  }
  dealer_ = std::move(dealer).value();
  welcomed_ = false;
  ++incarnation_;
  SendJoin();
}

void Communicator::Loop::SendJoin() {
  auto& fbb = builder_.builder();
  const auto body = proto::CreateJoinDirect(
      fbb, incarnation_, static_cast<uint64_t>(options_.model_dim),
      std::string(algo::AlgorithmName(options_.algorithm)).c_str(),
      CodecName().c_str(), options_.shard_size,
      encoder_.codec().settings().c_str());
  SendEnvelope(proto::Body::Join, body.Union(), {}, false);
}

void Communicator::Loop::SendLeave() {
  auto& fbb = builder_.builder();
  const auto body = proto::CreateLeaveDirect(fbb, "stopped");
  SendEnvelope(proto::Body::Leave, body.Union(), {}, false);
}

void Communicator::Loop::SendPush(std::unique_ptr<OutgoingPush> push) {
  const Clock::time_point start = Clock::now();
  std::vector<uint8_t> payload;
  Status status =
      encoder_.Encode(push->base->anchor, push->contribution, &payload);
  if (!status.ok()) {
    DeliverFatal("round " + std::to_string(push->round) + ": " +
                 status.message());
    return;
  }
  encoded_round_ = push->round;
  const double encode = Seconds(Clock::now() - start).count();
  encode_seconds_ += encode;
  metrics_->encode_seconds.Increment(encode);
  metrics_->quantization_bits.Set(encoder_.codec().quantization_bits());
  auto& fbb = builder_.builder();
  const auto body = proto::CreatePushDirect(
      fbb, push->base_version, push->round, CodecName().c_str(), UnixNanos(),
      push->samples, push->local_steps, push->train_loss, push->compute_seconds,
      push->sync_wait_seconds, encode_seconds_);
  metrics_->raw_bytes.Increment(static_cast<double>(anchor_codec_.raw_bytes()));
  SendEnvelope(proto::Body::Push, body.Union(), std::move(payload), true);
}

void Communicator::Loop::ApplySketchUpdate(const transport::Message& anchor) {
  if (sketch_ == nullptr || anchor.num_payloads() != 2) return;
  const std::span<const uint8_t> bytes = anchor.payload(1);
  std::vector<uint32_t> applied(bytes.size() / sizeof(uint32_t));
  std::memcpy(applied.data(), bytes.data(), applied.size() * sizeof(uint32_t));
  Status status = sketch_->Applied(applied);
  if (!status.ok()) {
    LOG_WARNING("ignoring an anchor's applied coordinates: %s",
                status.message().c_str());
  }
}

void Communicator::Loop::AnswerQuery(const transport::Message& message) {
  const uint64_t round = message.envelope().body_as_Query()->round();
  if (sketch_ == nullptr || round != encoded_round_ ||
      message.num_payloads() != 1 ||
      message.payload(0).size() % sizeof(uint32_t) != 0) {
    LOG_WARNING("ignoring a query for round %llu (last push: round %llu)",
                static_cast<unsigned long long>(round),
                static_cast<unsigned long long>(encoded_round_));
    return;
  }
  const std::span<const uint8_t> bytes = message.payload(0);
  std::vector<uint32_t> indices(bytes.size() / sizeof(uint32_t));
  std::memcpy(indices.data(), bytes.data(), bytes.size());
  std::vector<float> exact(indices.size());
  Status status = sketch_->ExactValues(indices, exact);
  if (!status.ok()) {
    LOG_WARNING("ignoring a query: %s", status.message().c_str());
    return;
  }
  std::vector<uint8_t> values(bytes.size());
  std::memcpy(values.data(), exact.data(), values.size());
  auto& fbb = builder_.builder();
  SendEnvelope(proto::Body::Values, proto::CreateValues(fbb, round).Union(),
               std::move(values), true);
}

void Communicator::Loop::SendEnvelope(proto::Body type,
                                      flatbuffers::Offset<void> body,
                                      std::vector<uint8_t> payload,
                                      bool has_payload) {
  std::vector<zmq::message_t> frames;
  frames.push_back(
      builder_.Finish(options_.worker_id, type, body, has_payload ? 1 : 0));
  size_t bytes = frames.front().size() + payload.size();
  if (has_payload)
    frames.push_back(transport::FrameFromBytes(std::move(payload)));
  last_sent_ = Clock::now();
  if (delayed()) {
    outgoing_.push_back(
        {Arrival(&up_busy_until_, bytes), std::move(frames), bytes});
    return;
  }
  Status status = transport::SendFrames(dealer_, std::move(frames));
  if (!status.ok()) {
    LOG_WARNING("send to server failed: %s", status.message().c_str());
    return;
  }
  metrics_->bytes_tx.Increment(static_cast<double>(bytes));
}

Clock::time_point Communicator::Loop::Arrival(Clock::time_point* busy_until,
                                              size_t bytes) const {
  const Clock::time_point start = std::max(Clock::now(), *busy_until);
  const double transfer =
      options_.link_bandwidth_bytes > 0
          ? static_cast<double>(bytes) / options_.link_bandwidth_bytes
          : 0.0;
  *busy_until =
      start + std::chrono::duration_cast<Clock::duration>(Seconds(transfer));
  return *busy_until +
         std::chrono::duration_cast<Clock::duration>(options_.link_latency);
}

void Communicator::Loop::FlushDue(Clock::time_point now) {
  while (!outgoing_.empty() && outgoing_.front().due <= now) {
    Outgoing& next = outgoing_.front();
    Status status = transport::SendFrames(dealer_, std::move(next.frames));
    if (status.ok()) {
      metrics_->bytes_tx.Increment(static_cast<double>(next.bytes));
    } else {
      LOG_WARNING("send to server failed: %s", status.message().c_str());
    }
    outgoing_.pop_front();
  }
  while (!incoming_.empty() && incoming_.front().due <= now) {
    Deliver(std::move(incoming_.front().delivery));
    incoming_.pop_front();
  }
}

std::chrono::milliseconds Communicator::Loop::UntilNextDue(
    Clock::time_point now) const {
  Clock::time_point next = Clock::time_point::max();
  if (!outgoing_.empty()) next = std::min(next, outgoing_.front().due);
  if (!incoming_.empty()) next = std::min(next, incoming_.front().due);
  if (next == Clock::time_point::max()) return std::chrono::milliseconds(100);
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::ceil<std::chrono::milliseconds>(next - now));
}

void Communicator::Loop::HandleServer() {
  for (int i = 0; i < 64 && !done_received_; ++i) {
    StatusOr<std::optional<std::vector<zmq::message_t>>> frames =
        transport::ReceiveFrames(dealer_, transport::kMaxPayloadFrames + 1);
    if (!frames.ok()) {
      LOG_WARNING("bad message from server: %s",
                  frames.status().message().c_str());
      continue;
    }
    if (!frames->has_value()) return;
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(**frames), &reason);
    if (!message.ok()) {
      LOG_WARNING("bad message from server (%s): %s", reason.c_str(),
                  message.status().message().c_str());
      continue;
    }
    metrics_->bytes_rx.Increment(static_cast<double>(message->wire_bytes()));
    last_heard_ = Clock::now();
    backoff_ = std::chrono::milliseconds(100);
    if (!HandleMessage(std::move(message).value())) done_received_ = true;
  }
}

bool Communicator::Loop::HandleMessage(transport::Message message) {
  const proto::Envelope& envelope = message.envelope();
  switch (message.kind()) {
    case proto::Body::Welcome:
    case proto::Body::Anchor: {
      auto delivery = std::make_unique<Delivery>();
      const bool welcome = message.kind() == proto::Body::Welcome;
      delivery->kind =
          welcome ? Delivery::Kind::kWelcome : Delivery::Kind::kAnchor;
      if (welcome) {
        delivery->version = envelope.body_as_Welcome()->anchor_version();
        delivery->next_round = envelope.body_as_Welcome()->next_round();
      } else {
        const proto::Anchor* anchor = envelope.body_as_Anchor();
        delivery->version = anchor->version();
        delivery->next_round = anchor->next_round();
        if (anchor->push_sent_unix_ns() != 0) {
          metrics_->push_rtt.Observe(
              static_cast<double>(UnixNanos() - anchor->push_sent_unix_ns()) *
              1e-9);
        }
      }
      delivery->anchor.resize(static_cast<size_t>(options_.model_dim));
      if (!welcome) ApplySketchUpdate(message);
      Status status =
          message.num_payloads() >= 1
              ? anchor_codec_.Decode(message.payload(0), delivery->anchor)
              : Status::DataLoss("anchor without payload");
      if (!status.ok()) {
        LOG_WARNING("dropping anchor v%llu: %s",
                    static_cast<unsigned long long>(delivery->version),
                    status.message().c_str());
        return true;
      }
      if (welcome) {
        welcomed_ = true;
        LOG_INFO("joined %s at anchor v%llu, round %llu",
                 options_.server.c_str(),
                 static_cast<unsigned long long>(delivery->version),
                 static_cast<unsigned long long>(delivery->next_round));
      }
      metrics_->anchor_version.Set(static_cast<double>(delivery->version));
      DeliverFromServer(std::move(delivery), message.wire_bytes());
      if (welcome && held_push_ != nullptr) SendPush(std::move(held_push_));
      return true;
    }
    case proto::Body::Query:
      AnswerQuery(message);
      return true;
    case proto::Body::Done: {
      auto delivery = std::make_unique<Delivery>();
      delivery->kind = Delivery::Kind::kDone;
      const proto::Done* done = envelope.body_as_Done();
      delivery->version = done->anchor_version();
      delivery->text = done->reason() != nullptr ? done->reason()->str() : "";
      DeliverFromServer(std::move(delivery), message.wire_bytes());
      // Acknowledge, so the server can stop waiting for stragglers.
      auto& fbb = builder_.builder();
      SendEnvelope(proto::Body::Leave,
                   proto::CreateLeaveDirect(fbb, "done").Union(), {}, false);
      FlushDue(Clock::time_point::max());
      return false;
    }
    case proto::Body::Error: {
      const proto::Error* error = envelope.body_as_Error();
      const std::string text =
          error->text() != nullptr ? error->text()->str() : "";
      switch (error->code()) {
        case proto::ErrorCode::WrongDimension:
        case proto::ErrorCode::WrongAlgorithm:
        case proto::ErrorCode::WrongCodec:
          if (!welcomed_) {
            DeliverFatal("server refused to admit this worker: " + text);
            return false;
          }
          break;
        case proto::ErrorCode::UnknownWorker:
          if (!welcomed_) {
            DeliverFatal("server refused to admit this worker: " + text);
            return false;
          }
          // The server no longer knows us (declared lost): join again.
          welcomed_ = false;
          SendJoin();
          break;
        default:
          break;
      }
      LOG_WARNING("server error: %s", text.c_str());
      if (welcomed_) {
        // A refused push leaves the compute thread waiting for its answer;
        // rejoining brings a fresh Welcome that unblocks it.
        welcomed_ = false;
        SendJoin();
      }
      return true;
    }
    case proto::Body::Heartbeat:
      return true;
    default:
      LOG_WARNING("unexpected %s from server",
                  proto::EnumNameBody(message.kind()));
      return true;
  }
}

void Communicator::Loop::DeliverFromServer(std::unique_ptr<Delivery> delivery,
                                           size_t bytes) {
  if (!delayed()) {
    Deliver(std::move(delivery));
    return;
  }
  incoming_.push_back({Arrival(&down_busy_until_, bytes), std::move(delivery)});
}

void Communicator::Loop::Deliver(std::unique_ptr<Delivery> delivery) {
  zmq::message_t frame = PointerFrame(kDeliveryFrame, std::move(delivery));
  pair_.send(frame, zmq::send_flags::none);
}

void Communicator::Loop::DeliverFatal(const std::string& text) {
  auto delivery = std::make_unique<Delivery>();
  delivery->kind = Delivery::Kind::kFatal;
  delivery->text = text;
  Deliver(std::move(delivery));
}

Communicator::Communicator(zmq::context_t& context,
                           const CommunicatorOptions& options,
                           algo::PushEncoder encoder, WorkerMetrics* metrics)
    : pair_(context, zmq::socket_type::pair) {
  const std::string endpoint = Endpoint(this);
  pair_.set(zmq::sockopt::linger, 0);
  pair_.bind(endpoint);
  zmq::socket_t peer(context, zmq::socket_type::pair);
  peer.set(zmq::sockopt::linger, 0);
  peer.connect(endpoint);
  thread_ = std::thread(
      [&context, options, metrics](algo::PushEncoder push_encoder,
                                   zmq::socket_t socket) {
        Loop loop(context, options, std::move(push_encoder), metrics,
                  std::move(socket));
        loop.Run();
      },
      std::move(encoder), std::move(peer));
}

Communicator::~Communicator() {
  zmq::message_t stop(2);
  static_cast<char*>(stop.data())[0] = kStopFrame;
  static_cast<char*>(stop.data())[1] = leave_on_stop_ ? 1 : 0;
  pair_.send(stop, zmq::send_flags::none);
  thread_.join();
  // Free deliveries the compute thread never took.
  zmq::message_t frame;
  while (pair_.recv(frame, zmq::recv_flags::dontwait)) {
    if (static_cast<const char*>(frame.data())[0] == kDeliveryFrame) {
      TakePointer<Delivery>(frame);
    }
  }
}

void Communicator::SendPush(std::unique_ptr<OutgoingPush> push) {
  zmq::message_t frame = PointerFrame(kPushFrame, std::move(push));
  pair_.send(frame, zmq::send_flags::none);
}

std::unique_ptr<Delivery> Communicator::Receive(
    std::chrono::milliseconds timeout) {
  StatusOr<std::vector<bool>> readable = transport::Poll({&pair_}, timeout);
  if (!readable.ok() || !(*readable)[0]) return nullptr;
  zmq::message_t frame;
  if (!pair_.recv(frame, zmq::recv_flags::dontwait)) return nullptr;
  return TakePointer<Delivery>(frame);
}

}  // namespace anchorage::worker
