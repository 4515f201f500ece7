#include "worker/communicator.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "common/algo/anchor_round.h"
#include "common/base/check.h"
#include "common/base/format.h"
#include "common/base/log.h"
#include "common/codec/codec.h"
#include "common/transport/protocol.h"
#include "common/transport/socket.h"
#include "worker/link_delay.h"

namespace anchorage::worker {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Frames on the inproc PAIR: one byte of kind, then a pointer whose
// ownership moves with the frame.
constexpr char kPushFrame = 'P';
constexpr char kStopFrame = 'S';
constexpr char kDeliveryFrame = 'D';

// What a pointer frame carries after its kind byte.
template <typename T>
struct Handle {
  T* object;
};

template <typename T>
zmq::message_t PointerFrame(char kind, std::unique_ptr<T> object) {
  const Handle<T> handle{object.release()};
  zmq::message_t frame(1 + sizeof(handle));
  auto* bytes = static_cast<char*>(frame.data());
  bytes[0] = kind;
  std::memcpy(bytes + 1, &handle, sizeof(handle));
  return frame;
}

template <typename T>
std::unique_ptr<T> TakePointer(const zmq::message_t& frame) {
  Handle<T> handle{nullptr};
  std::memcpy(&handle, static_cast<const char*>(frame.data()) + 1,
              sizeof(handle));
  return std::unique_ptr<T>(handle.object);
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

// Little-endian u32 indices from a payload frame at any address; nullopt
// when its size is not a multiple of 4.
std::optional<std::vector<uint32_t>> Indices(std::span<const uint8_t> bytes) {
  if (bytes.size() % sizeof(uint32_t) != 0) return std::nullopt;
  std::vector<uint32_t> indices(bytes.size() / sizeof(uint32_t));
  std::memcpy(indices.data(), bytes.data(), bytes.size());
  return indices;
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
        anchor_codec_(codec::MakeCodec("dense", options.model_dim).value()),
        encoder_(std::move(encoder)),
        outgoing_(
            LinkDelay(options.link_latency, options.link_bandwidth_bytes)),
        incoming_(
            LinkDelay(options.link_latency, options.link_bandwidth_bytes)) {}

  void Run();

 private:
  // Returns false once the loop should only wait for the stop frame.
  bool Step(const std::vector<bool>& readable);
  void TakeFromComputeThread();
  void Connect();
  void SendJoin();
  // Not welcomed: resend the Join when its answer is overdue, and give up
  // rejoining after server_timeout. Returns false when giving up.
  bool RetryJoin(Clock::time_point now);
  // A welcomed worker's way back: join again, from now on rejoining.
  void Rejoin();
  // Returns whether the frames left (or joined the injected link's queue).
  bool Send(transport::Frames frames);
  void SendPush(std::unique_ptr<OutgoingPush> push);
  // Sends an encoded push; when it cannot leave, joins again.
  void SendEncoded(uint64_t round, transport::Frames frames);
  // Asks for the credit to send the waiting push (a Welcome's
  // ask_before_push).
  void AskToPush();
  void HandleCredit(const transport::Message& message);
  void AnswerQuery(const transport::Message& message);
  void HandleServer();
  // Returns false when the server said Done or refused this worker.
  bool HandleMessage(const transport::Message& message);
  bool HandleAnchor(const transport::Message& message);
  // Makes anchor_codec_ the anchor codec `name` (dense, fp16, bf16; an
  // empty name is dense); InvalidArgument for any other.
  Status UseAnchorCodec(const std::string& name);
  bool HandleError(const transport::Message& message);
  void Deliver(std::unique_ptr<Delivery> delivery);
  // Delivers through the injected incoming link.
  void DeliverFromServer(std::unique_ptr<Delivery> delivery, size_t bytes);
  void DeliverFatal(const std::string& text);
  void FlushDue(Clock::time_point now);
  // How long the loop may sleep before a delayed message falls due.
  std::chrono::milliseconds UntilNextDue(Clock::time_point now) const;

  zmq::context_t& context_;
  CommunicatorOptions options_;
  WorkerMetrics* metrics_;
  zmq::socket_t pair_;
  zmq::socket_t dealer_;
  // Decodes the anchors: the codec their messages name (dense, fp16 or
  // bf16), made when the name changes.
  std::unique_ptr<codec::Codec> anchor_codec_;
  algo::PushEncoder encoder_;
  double encode_seconds_ = 0;
  // Pushes a quantizing codec encoded and the sum of their bits per
  // coordinate, reported with every push for the run's summary.
  uint64_t quantized_pushes_ = 0;
  uint64_t quantization_bits_sum_ = 0;
  // The round of the last encoded push, which a Query may ask about.
  uint64_t encoded_round_ = UINT64_MAX;
  transport::EnvelopeBuilder builder_;

  struct Outgoing {
    transport::Frames frames;
    size_t bytes;
  };
  DelayedQueue<Outgoing> outgoing_;
  DelayedQueue<std::unique_ptr<Delivery>> incoming_;
  bool done_received_ = false;
  bool finished_ = false;  // after Done or a fatal error
  bool stop_ = false;
  bool leave_ = false;

  // Grows with every connection, and starts from the clock so a restarted
  // process outbids the connection it replaces.
  uint64_t incarnation_ = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  bool welcomed_ = false;
  bool ever_welcomed_ = false;
  uint64_t run_id_ = 0;  // of the first Welcome
  // When the last Welcome stopped counting (or the first join began).
  Clock::time_point rejoin_since_;
  Clock::time_point next_join_;
  std::chrono::milliseconds join_backoff_{1000};
  std::string last_refusal_;
  std::unique_ptr<OutgoingPush> held_push_;  // waiting for a Welcome
  // The server limits pushes in flight: each is asked for, and sent once
  // granted. The encoded push waiting for its credit, and when to ask
  // again (an ask or a grant may be lost with a connection).
  bool ask_before_push_ = false;
  struct WaitingPush {
    uint64_t round = 0;
    transport::Frames frames;
  };
  std::optional<WaitingPush> waiting_push_;
  Clock::time_point next_ask_;
  Clock::time_point last_heard_;    // any message from the server
  Clock::time_point last_attempt_;  // last (re)connect
  Clock::time_point last_sent_;
  std::chrono::milliseconds backoff_{100};
};

void Communicator::Loop::Run() {
  last_heard_ = Clock::now();
  rejoin_since_ = last_heard_;
  Connect();
  // After Done or a fatal error the loop only waits for the stop frame, so
  // every push the compute thread hands over is still taken and freed.
  while (!stop_) {
    StatusOr<std::vector<bool>> readable = transport::Poll(
        {&dealer_, &pair_},
        std::min({options_.heartbeat_interval, std::chrono::milliseconds(100),
                  UntilNextDue(Clock::now())}));
    if (!readable.ok()) {
      if (!finished_) DeliverFatal(readable.status().message());
      finished_ = true;
      readable = std::vector<bool>{false, true};
    }
    if ((*readable)[1]) TakeFromComputeThread();
    if (stop_ || finished_) continue;
    finished_ = !Step(*readable);
  }
  if (leave_ && welcomed_ && !finished_) {
    Send(transport::MakeLeave(builder_, options_.worker_id, "stopped"));
    FlushDue(Clock::time_point::max());
  }
}

void Communicator::Loop::TakeFromComputeThread() {
  zmq::message_t frame;
  if (!pair_.recv(frame, zmq::recv_flags::dontwait)) return;
  const char kind = static_cast<const char*>(frame.data())[0];
  if (kind == kStopFrame) {
    stop_ = true;
    leave_ = static_cast<const char*>(frame.data())[1] != 0;
    return;
  }
  std::unique_ptr<OutgoingPush> push = TakePointer<OutgoingPush>(frame);
  if (finished_) return;
  if (welcomed_) {
    SendPush(std::move(push));
  } else {
    held_push_ = std::move(push);
  }
}

bool Communicator::Loop::Step(const std::vector<bool>& readable) {
  if (readable[0]) HandleServer();
  FlushDue(Clock::now());
  if (done_received_) return !incoming_.empty();

  const Clock::time_point now = Clock::now();
  if (!welcomed_ && !RetryJoin(now)) return false;
  if (now - last_heard_ > options_.server_timeout) {
    DeliverFatal(
        "server " + options_.server + " unreachable for " +
        std::to_string(static_cast<int>(Seconds(now - last_heard_).count())) +
        " s");
    return false;
  }
  const auto liveness =
      options_.heartbeat_interval * options_.heartbeat_liveness;
  const Clock::time_point silent_since = std::max(last_heard_, last_attempt_);
  if (now - silent_since > std::max<Clock::duration>(liveness, backoff_)) {
    LOG_WARNING("server silent for %.1f s; reconnecting to %s",
                Seconds(now - last_heard_).count(), options_.server.c_str());
    metrics_->reconnects.Increment();
    backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2,
                                                   std::chrono::seconds(5));
    Connect();
  } else if (welcomed_ && waiting_push_ && now >= next_ask_) {
    AskToPush();
  } else if (welcomed_ && now - last_sent_ >= options_.heartbeat_interval) {
    Send(transport::MakeHeartbeat(builder_, options_.worker_id));
  }
  return true;
}

void Communicator::Loop::Connect() {
  transport::SocketOptions socket_options;
  socket_options.max_message_bytes =
      std::max<int64_t>(anchor_codec_->raw_bytes() * 2 + (1 << 20), 1 << 20);
  socket_options.linger = std::chrono::milliseconds(200);
  socket_options.immediate = true;
  socket_options.send_timeout = std::chrono::milliseconds(0);
  socket_options.curve_client = options_.curve;
  StatusOr<zmq::socket_t> dealer = transport::ConnectDealer(
      context_, options_.server, transport::NewRoutingId(), socket_options);
  last_attempt_ = Clock::now();
  if (!dealer.ok()) {
    LOG_WARNING("%s", dealer.status().message().c_str());
    return;
  }
  dealer_ = std::move(dealer).value();
  if (welcomed_) rejoin_since_ = last_attempt_;
  welcomed_ = false;
  // The Welcome that answers this Join resyncs the compute thread.
  waiting_push_.reset();
  ++incarnation_;
  SendJoin();
}

bool Communicator::Loop::RetryJoin(Clock::time_point now) {
  // A first join that the server keeps refusing (its id held by another
  // connection) gives up too; one never answered is "unreachable" below.
  if ((ever_welcomed_ || !last_refusal_.empty()) &&
      now - rejoin_since_ > options_.server_timeout) {
    DeliverFatal(
        std::string(ever_welcomed_ ? "could not rejoin " : "could not join ") +
        options_.server + " for " +
        std::to_string(static_cast<int>(Seconds(now - rejoin_since_).count())) +
        " s" +
        (last_refusal_.empty() ? "" : "; last refusal: " + last_refusal_));
    return false;
  }
  if (now >= next_join_) SendJoin();
  return true;
}

void Communicator::Loop::SendJoin() {
  // A Join that could not leave (no connection yet) is retried soon; one
  // that left, once its answer is overdue, backing off.
  const bool sent = Send(transport::MakeJoin(
      builder_,
      {.worker = options_.worker_id,
       .incarnation = incarnation_,
       .model_dim = static_cast<uint64_t>(options_.model_dim),
       .algorithm = std::string(algo::AlgorithmName(options_.algorithm)),
       .codec = std::string(encoder_.codec().name()),
       .codec_settings = encoder_.codec().settings(),
       .server_shard = options_.server_shard,
       .server_shards = options_.server_shards},
      options_.shard_size));
  if (sent) {
    next_join_ = Clock::now() + join_backoff_;
    join_backoff_ = std::min<std::chrono::milliseconds>(
        join_backoff_ * 2, std::chrono::seconds(5));
  } else {
    next_join_ = Clock::now() + std::chrono::milliseconds(20);
  }
}

void Communicator::Loop::SendPush(std::unique_ptr<OutgoingPush> push) {
  const Clock::time_point start = Clock::now();
  std::vector<uint8_t> payload;
  Status status =
      encoder_.Encode(push->base->anchor, push->contribution, &payload);
  if (!status.ok()) {
    DeliverFatal("round " + std::to_string(push->round) + ": " +
                 status.message());
    finished_ = true;
    return;
  }
  encoded_round_ = push->round;
  const double encode = Seconds(Clock::now() - start).count();
  encode_seconds_ += encode;
  metrics_->encode_seconds.Increment(encode);
  if (const int bits = encoder_.codec().quantization_bits(); bits > 0) {
    metrics_->quantization_bits.Set(bits);
    ++quantized_pushes_;
    quantization_bits_sum_ += static_cast<uint64_t>(bits);
  }
  metrics_->raw_bytes.Increment(
      static_cast<double>(encoder_.codec().raw_bytes()));
  algo::PushRequest request{.worker = options_.worker_id,
                            .round = push->round,
                            .base_version = push->base_version,
                            .codec = std::string(encoder_.codec().name()),
                            .sent_unix_ns = UnixNanos(),
                            .report = push->report};
  request.report.encode_seconds = encode_seconds_;
  request.report.quantized_pushes = quantized_pushes_;
  request.report.quantization_bits_sum = quantization_bits_sum_;
  transport::Frames frames =
      transport::MakePush(builder_, request, std::move(payload));
  if (ask_before_push_) {
    waiting_push_ = WaitingPush{push->round, std::move(frames)};
    AskToPush();
    return;
  }
  SendEncoded(push->round, std::move(frames));
}

void Communicator::Loop::SendEncoded(uint64_t round, transport::Frames frames) {
  if (!Send(std::move(frames))) {
    // The push did not leave (no connection, or a full queue): nothing
    // would answer it and the compute thread would wait for that answer.
    // Joining again brings a Welcome that resyncs it.
    LOG_WARNING("round %llu's push could not be sent; joining again",
                static_cast<unsigned long long>(round));
    Rejoin();
  }
}

void Communicator::Loop::AskToPush() {
  Send(transport::MakePushAsk(builder_, options_.worker_id,
                              waiting_push_->round));
  next_ask_ = Clock::now() + std::chrono::seconds(1);
}

void Communicator::Loop::HandleCredit(const transport::Message& message) {
  if (!waiting_push_ ||
      transport::ReadPushCreditRound(message) != waiting_push_->round) {
    return;  // a late grant for a push already sent
  }
  WaitingPush push = std::move(*waiting_push_);
  waiting_push_.reset();
  SendEncoded(push.round, std::move(push.frames));
}

void Communicator::Loop::AnswerQuery(const transport::Message& message) {
  const transport::QueryMessage query = transport::ReadQuery(message);
  std::optional<std::vector<uint32_t>> indices;
  if (query.payloads.size() == 1) indices = Indices(query.payloads.front());
  std::vector<float> exact(indices ? indices->size() : 0);
  Status status =
      !indices || query.round != encoded_round_
          ? Status::InvalidArgument(
                "it asks about round " + std::to_string(query.round) +
                " (last push: round " + std::to_string(encoded_round_) + ")")
          : encoder_.codec().ExactValues(*indices, exact);
  if (!status.ok()) {
    LOG_WARNING("ignoring a query: %s", status.message().c_str());
    return;
  }
  std::vector<uint8_t> values(exact.size() * sizeof(float));
  std::memcpy(values.data(), exact.data(), values.size());
  Send(transport::MakeValues(builder_, options_.worker_id, query.round,
                             std::move(values)));
}

bool Communicator::Loop::Send(transport::Frames frames) {
  const size_t bytes = transport::FrameBytes(frames);
  last_sent_ = Clock::now();
  if (outgoing_.active()) {
    outgoing_.Push({std::move(frames), bytes}, bytes, last_sent_);
    return true;
  }
  Status status = transport::SendFrames(dealer_, std::move(frames));
  if (!status.ok()) {
    // No connection (the server is gone or not up yet): dropped, not
    // queued.
    LOG_DEBUG("send to server dropped: %s", status.message().c_str());
    return false;
  }
  metrics_->bytes_tx.Increment(static_cast<double>(bytes));
  return true;
}

void Communicator::Loop::FlushDue(Clock::time_point now) {
  while (std::optional<Outgoing> next = outgoing_.PopDue(now)) {
    Status status = transport::SendFrames(dealer_, std::move(next->frames));
    if (status.ok()) {
      metrics_->bytes_tx.Increment(static_cast<double>(next->bytes));
    } else {
      LOG_DEBUG("send to server dropped: %s", status.message().c_str());
    }
  }
  while (std::optional<std::unique_ptr<Delivery>> next =
             incoming_.PopDue(now)) {
    Deliver(std::move(*next));
  }
}

std::chrono::milliseconds Communicator::Loop::UntilNextDue(
    Clock::time_point now) const {
  Clock::time_point next = std::min(outgoing_.NextDue(), incoming_.NextDue());
  if (!welcomed_) next = std::min(next, next_join_);
  if (next == Clock::time_point::max()) return std::chrono::milliseconds(100);
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::ceil<std::chrono::milliseconds>(next - now));
}

void Communicator::Loop::HandleServer() {
  for (int i = 0; i < 64 && !done_received_; ++i) {
    StatusOr<std::optional<transport::Frames>> frames =
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
    if (!HandleMessage(*message)) done_received_ = true;
  }
}

bool Communicator::Loop::HandleMessage(const transport::Message& message) {
  switch (message.kind()) {
    case proto::Body::Welcome:
    case proto::Body::Anchor:
      return HandleAnchor(message);
    case proto::Body::Query:
      AnswerQuery(message);
      return true;
    case proto::Body::PushCredit:
      HandleCredit(message);
      return true;
    case proto::Body::Done: {
      const transport::DoneMessage done = transport::ReadDone(message);
      auto delivery = std::make_unique<Delivery>();
      delivery->kind = Delivery::Kind::kDone;
      delivery->header.version = done.version;
      delivery->text = done.reason;
      delivery->completed = done.completed;
      DeliverFromServer(std::move(delivery), message.wire_bytes());
      // Acknowledge, so the server can stop waiting for stragglers.
      Send(transport::MakeLeave(builder_, options_.worker_id, "done"));
      FlushDue(Clock::time_point::max());
      return false;
    }
    case proto::Body::Error:
      return HandleError(message);
    case proto::Body::Heartbeat:
      return true;
    default:
      LOG_WARNING("unexpected %s from server",
                  proto::EnumNameBody(message.kind()));
      return true;
  }
}

bool Communicator::Loop::HandleAnchor(const transport::Message& message) {
  const transport::AnchorMessage read = transport::ReadAnchorMessage(message);
  auto delivery = std::make_unique<Delivery>();
  delivery->header = read.header;
  if (read.push_sent_unix_ns != 0) {
    metrics_->push_rtt.Observe(
        static_cast<double>(UnixNanos() - read.push_sent_unix_ns) * 1e-9);
  }
  if (read.payloads.size() == 2) {
    // The coordinates the round applied: clear the error feedback there.
    std::optional<std::vector<uint32_t>> applied = Indices(read.payloads[1]);
    Status status = applied ? encoder_.codec().Applied(*applied)
                            : Status::DataLoss("a ragged index frame");
    if (!status.ok()) {
      LOG_WARNING("ignoring an anchor's applied coordinates: %s",
                  status.message().c_str());
    }
  }
  delivery->anchor.resize(static_cast<size_t>(options_.model_dim));
  Status status = UseAnchorCodec(read.codec);
  if (status.ok()) {
    status =
        read.payloads.empty()
            ? Status::DataLoss("anchor without payload")
            : anchor_codec_->Decode(read.payloads.front(), delivery->anchor);
  }
  if (!status.ok()) {
    LOG_WARNING("dropping anchor v%llu: %s",
                static_cast<unsigned long long>(read.header.version),
                status.message().c_str());
    return true;
  }
  if (read.header.welcome && ever_welcomed_ && read.run_id != run_id_) {
    DeliverFatal("the server at " + options_.server +
                 " began another run (its run id changed, its checkpoints "
                 "were lost): this worker's progress belongs to the "
                 "previous one");
    return false;
  }
  if (read.header.welcome) {
    run_id_ = read.run_id;
    LOG_INFO("%s %s at anchor v%llu, round %llu",
             ever_welcomed_ ? "rejoined" : "joined", options_.server.c_str(),
             static_cast<unsigned long long>(read.header.version),
             static_cast<unsigned long long>(read.header.next_round));
    welcomed_ = true;
    ever_welcomed_ = true;
    ask_before_push_ = read.ask_before_push;
    join_backoff_ = std::chrono::milliseconds(1000);
    last_refusal_.clear();
  }
  metrics_->anchor_version.Set(static_cast<double>(read.header.version));
  DeliverFromServer(std::move(delivery), message.wire_bytes());
  if (read.header.welcome && held_push_ != nullptr) {
    SendPush(std::move(held_push_));
  }
  return true;
}

Status Communicator::Loop::UseAnchorCodec(const std::string& name) {
  const std::string wanted = name.empty() ? "dense" : name;
  if (wanted == anchor_codec_->name()) return Status::Ok();
  if (!algo::IsAnchorCodec(wanted)) {
    return Status::InvalidArgument("anchors in codec '" + Printable(wanted) +
                                   "', not dense, fp16 or bf16");
  }
  anchor_codec_ = codec::MakeCodec(wanted, options_.model_dim).value();
  return Status::Ok();
}

bool Communicator::Loop::HandleError(const transport::Message& message) {
  const transport::ErrorMessage error = transport::ReadError(message);
  const std::string text = Printable(error.text);
  const bool refusal = transport::RefusesAdmission(error.code) ||
                       error.code == proto::ErrorCode::UnknownWorker;
  // Our id is still held by a connection the server believes live (this
  // process's previous one, or one it replaces): joining again succeeds
  // once that one is gone or silent past the liveness window.
  const bool in_use = error.code == proto::ErrorCode::Duplicate;
  if (!welcomed_) {
    if (!ever_welcomed_ && refusal) {
      DeliverFatal("server refused to admit this worker: " + text);
      return false;
    }
    // Rejoining: answers to what was sent before the Join, or a refusal of
    // the Join itself; RetryJoin sends it again until server_timeout.
    if ((refusal || in_use) && text != last_refusal_) {
      LOG_WARNING("%s: %s", ever_welcomed_ ? "rejoining" : "joining",
                  text.c_str());
      last_refusal_ = text;
    }
    return true;
  }
  LOG_WARNING("server error: %s; joining again", text.c_str());
  // The server no longer knows us (restarted, or declared us lost), or it
  // refused a push and left the compute thread waiting for its answer:
  // joining again brings a fresh Welcome that unblocks it.
  Rejoin();
  return true;
}

void Communicator::Loop::Rejoin() {
  welcomed_ = false;
  waiting_push_.reset();
  rejoin_since_ = Clock::now();
  join_backoff_ = std::chrono::milliseconds(1000);
  SendJoin();
}

void Communicator::Loop::DeliverFromServer(std::unique_ptr<Delivery> delivery,
                                           size_t bytes) {
  if (!incoming_.active()) {
    Deliver(std::move(delivery));
    return;
  }
  incoming_.Push(std::move(delivery), bytes, Clock::now());
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
  // Inproc sends and receives between the two live ends cannot fail; if
  // they did, the thread could not be stopped either.
  try {
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
  } catch (const std::exception& error) {
    ANCHORAGE_CHECK(false, error.what());
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
