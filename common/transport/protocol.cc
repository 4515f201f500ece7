#include "common/transport/protocol.h"

#include <algorithm>
#include <utility>

#include "common/base/check.h"

namespace anchorage::transport {
namespace {

std::string Text(const flatbuffers::String* text) {
  return text != nullptr ? text->str() : std::string();
}

std::vector<std::span<const uint8_t>> Payloads(const Message& message) {
  std::vector<std::span<const uint8_t>> payloads;
  for (size_t i = 0; i < message.num_payloads(); ++i) {
    payloads.push_back(message.payload(i));
  }
  return payloads;
}

void ExpectKind(const Message& message, proto::Body kind) {
  ANCHORAGE_CHECK(message.kind() == kind, "reading a message of another kind");
}

proto::ErrorCode ToWire(algo::Refusal code) {
  switch (code) {
    case algo::Refusal::kBadMessage:
      return proto::ErrorCode::BadMessage;
    case algo::Refusal::kUnknownWorker:
      return proto::ErrorCode::UnknownWorker;
    case algo::Refusal::kWrongDimension:
      return proto::ErrorCode::WrongDimension;
    case algo::Refusal::kWrongAlgorithm:
      return proto::ErrorCode::WrongAlgorithm;
    case algo::Refusal::kWrongCodec:
      return proto::ErrorCode::WrongCodec;
    case algo::Refusal::kIdentityInUse:
      return proto::ErrorCode::Duplicate;
  }
  return proto::ErrorCode::Unknown;
}

Frames Finish(EnvelopeBuilder& builder, uint32_t worker, proto::Body type,
              flatbuffers::Offset<void> body, Frames payloads) {
  Frames frames;
  frames.push_back(builder.Finish(worker, type, body,
                                  static_cast<uint8_t>(payloads.size())));
  for (zmq::message_t& payload : payloads) {
    frames.push_back(std::move(payload));
  }
  return frames;
}

Frames One(zmq::message_t frame) {
  Frames frames;
  frames.push_back(std::move(frame));
  return frames;
}

}  // namespace

Frames MakeJoin(EnvelopeBuilder& builder, const algo::JoinRequest& join,
                uint64_t shard_size) {
  const auto body = proto::CreateJoinDirect(
      builder.builder(), join.incarnation, join.model_dim,
      join.algorithm.c_str(), join.codec.c_str(), shard_size,
      join.codec_settings.c_str(), join.server_shard, join.server_shards);
  return Finish(builder, join.worker, proto::Body::Join, body.Union(), {});
}

algo::JoinRequest ReadJoin(const Message& message) {
  ExpectKind(message, proto::Body::Join);
  const proto::Join* join = message.envelope().body_as_Join();
  return {.worker = message.worker_id(),
          .incarnation = join->incarnation(),
          .model_dim = join->model_dim(),
          .algorithm = Text(join->algorithm()),
          .codec = Text(join->codec()),
          .codec_settings = Text(join->codec_settings()),
          .server_shard = join->server_shard(),
          .server_shards = std::max<uint32_t>(join->server_shards(), 1)};
}

Frames MakePush(EnvelopeBuilder& builder, const algo::PushRequest& push,
                std::vector<uint8_t> payload) {
  const algo::WorkerReport& report = push.report;
  const auto body = proto::CreatePushDirect(
      builder.builder(), push.base_version, push.round, push.codec.c_str(),
      push.sent_unix_ns, report.samples, report.local_steps, report.train_loss,
      report.compute_seconds, report.sync_wait_seconds, report.encode_seconds,
      report.quantized_pushes, report.quantization_bits_sum,
      report.first_step_unix_ns);
  return Finish(builder, push.worker, proto::Body::Push, body.Union(),
                One(FrameFromBytes(std::move(payload))));
}

algo::PushRequest ReadPush(const Message& message) {
  ExpectKind(message, proto::Body::Push);
  const proto::Push* push = message.envelope().body_as_Push();
  return {.worker = message.worker_id(),
          .round = push->round(),
          .base_version = push->base_version(),
          .codec = Text(push->codec()),
          .sent_unix_ns = push->sent_unix_ns(),
          .report = {.samples = push->samples(),
                     .local_steps = push->local_steps(),
                     .train_loss = push->train_loss(),
                     .compute_seconds = push->compute_seconds(),
                     .sync_wait_seconds = push->sync_wait_seconds(),
                     .encode_seconds = push->encode_seconds(),
                     .quantized_pushes = push->quantized_pushes(),
                     .quantization_bits_sum = push->quantization_bits_sum(),
                     .first_step_unix_ns = push->first_step_unix_ns()},
          .payloads = Payloads(message)};
}

Frames MakeValues(EnvelopeBuilder& builder, uint32_t worker, uint64_t round,
                  std::vector<uint8_t> values) {
  const auto body = proto::CreateValues(builder.builder(), round);
  return Finish(builder, worker, proto::Body::Values, body.Union(),
                One(FrameFromBytes(std::move(values))));
}

algo::ValuesReply ReadValues(const Message& message) {
  ExpectKind(message, proto::Body::Values);
  return {.worker = message.worker_id(),
          .round = message.envelope().body_as_Values()->round(),
          .payloads = Payloads(message)};
}

Frames MakeLeave(EnvelopeBuilder& builder, uint32_t worker,
                 const std::string& reason) {
  const auto body = proto::CreateLeaveDirect(builder.builder(), reason.c_str());
  return Finish(builder, worker, proto::Body::Leave, body.Union(), {});
}

std::string ReadLeaveReason(const Message& message) {
  ExpectKind(message, proto::Body::Leave);
  const std::string reason = Text(message.envelope().body_as_Leave()->reason());
  return reason.empty() ? "left" : reason;
}

Frames MakePushAsk(EnvelopeBuilder& builder, uint32_t worker, uint64_t round) {
  const auto body = proto::CreatePushAsk(builder.builder(), round);
  return Finish(builder, worker, proto::Body::PushAsk, body.Union(), {});
}

uint64_t ReadPushAskRound(const Message& message) {
  ExpectKind(message, proto::Body::PushAsk);
  return message.envelope().body_as_PushAsk()->round();
}

Frames MakeHeartbeat(EnvelopeBuilder& builder, uint32_t worker) {
  const auto body = proto::CreateHeartbeat(builder.builder());
  return Finish(builder, worker, proto::Body::Heartbeat, body.Union(), {});
}

Frames MakeWelcome(EnvelopeBuilder& builder, const algo::Welcome& welcome,
                   uint64_t run_id, const std::string& anchor_codec,
                   bool ask_before_push, zmq::message_t anchor) {
  const auto body = proto::CreateWelcomeDirect(
      builder.builder(), welcome.version, welcome.next_round,
      anchor_codec.c_str(), welcome.workers, run_id, welcome.schedule_step,
      ask_before_push);
  return Finish(builder, welcome.worker, proto::Body::Welcome, body.Union(),
                One(std::move(anchor)));
}

Frames MakeAnchor(EnvelopeBuilder& builder, const algo::AnchorUpdate& update,
                  const std::string& anchor_codec, zmq::message_t anchor) {
  const auto body = proto::CreateAnchorDirect(
      builder.builder(), update.version, update.next_round,
      anchor_codec.c_str(), update.push_sent_unix_ns, update.schedule_step);
  Frames payloads = One(std::move(anchor));
  if (update.applied != nullptr) {
    payloads.emplace_back(update.applied->data(),
                          update.applied->size() * sizeof(uint32_t));
  }
  return Finish(builder, update.worker, proto::Body::Anchor, body.Union(),
                std::move(payloads));
}

Frames MakeQuery(EnvelopeBuilder& builder, const algo::Query& query,
                 zmq::message_t candidates) {
  const auto body = proto::CreateQuery(builder.builder(), query.round);
  return Finish(builder, query.worker, proto::Body::Query, body.Union(),
                One(std::move(candidates)));
}

Frames MakePushCredit(EnvelopeBuilder& builder, uint32_t worker,
                      uint64_t round) {
  const auto body = proto::CreatePushCredit(builder.builder(), round);
  return Finish(builder, worker, proto::Body::PushCredit, body.Union(), {});
}

uint64_t ReadPushCreditRound(const Message& message) {
  ExpectKind(message, proto::Body::PushCredit);
  return message.envelope().body_as_PushCredit()->round();
}

Frames MakeDone(EnvelopeBuilder& builder, uint32_t worker, uint64_t version,
                const std::string& reason, bool completed) {
  const auto body = proto::CreateDoneDirect(builder.builder(), version,
                                            reason.c_str(), completed);
  return Finish(builder, worker, proto::Body::Done, body.Union(), {});
}

Frames MakeError(EnvelopeBuilder& builder, uint32_t worker, algo::Refusal code,
                 const std::string& text) {
  const auto body =
      proto::CreateErrorDirect(builder.builder(), ToWire(code), text.c_str());
  return Finish(builder, worker, proto::Body::Error, body.Union(), {});
}

AnchorMessage ReadAnchorMessage(const Message& message) {
  AnchorMessage read;
  read.payloads = Payloads(message);
  if (message.kind() == proto::Body::Welcome) {
    const proto::Welcome* welcome = message.envelope().body_as_Welcome();
    read.header = {.version = welcome->anchor_version(),
                   .next_round = welcome->next_round(),
                   .schedule_step = welcome->schedule_step(),
                   .welcome = true};
    read.codec = Text(welcome->codec());
    read.run_id = welcome->run_id();
    read.ask_before_push = welcome->ask_before_push();
    return read;
  }
  ExpectKind(message, proto::Body::Anchor);
  const proto::Anchor* anchor = message.envelope().body_as_Anchor();
  read.header = {.version = anchor->version(),
                 .next_round = anchor->next_round(),
                 .schedule_step = anchor->schedule_step()};
  read.codec = Text(anchor->codec());
  read.push_sent_unix_ns = anchor->push_sent_unix_ns();
  return read;
}

QueryMessage ReadQuery(const Message& message) {
  ExpectKind(message, proto::Body::Query);
  return {.round = message.envelope().body_as_Query()->round(),
          .payloads = Payloads(message)};
}

DoneMessage ReadDone(const Message& message) {
  ExpectKind(message, proto::Body::Done);
  const proto::Done* done = message.envelope().body_as_Done();
  return {.version = done->anchor_version(),
          .reason = Text(done->reason()),
          .completed = done->completed()};
}

ErrorMessage ReadError(const Message& message) {
  ExpectKind(message, proto::Body::Error);
  const proto::Error* error = message.envelope().body_as_Error();
  return {.code = error->code(), .text = Text(error->text())};
}

bool RefusesAdmission(proto::ErrorCode code) {
  return code == proto::ErrorCode::WrongDimension ||
         code == proto::ErrorCode::WrongAlgorithm ||
         code == proto::ErrorCode::WrongCodec;
}

}  // namespace anchorage::transport
