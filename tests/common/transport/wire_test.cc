#include "common/transport/wire.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/base/status.h"
#include "proto/messages_generated.h"

namespace anchorage::transport {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes BytesOf(const zmq::message_t& frame) {
  const auto* data = static_cast<const uint8_t*>(frame.data());
  return Bytes(data, data + frame.size());
}

Bytes BytesOf(std::span<const uint8_t> span) {
  return Bytes(span.begin(), span.end());
}

zmq::message_t CopyFrame(const Bytes& bytes) {
  return zmq::message_t(bytes.data(), bytes.size());
}

std::vector<zmq::message_t> Frames(zmq::message_t envelope) {
  std::vector<zmq::message_t> frames;
  frames.push_back(std::move(envelope));
  return frames;
}

std::vector<zmq::message_t> Frames(zmq::message_t envelope,
                                   const std::vector<Bytes>& payloads) {
  std::vector<zmq::message_t> frames = Frames(std::move(envelope));
  for (const Bytes& payload : payloads) {
    frames.push_back(CopyFrame(payload));
  }
  return frames;
}

// Parses frames that must be rejected and returns the reason label.
std::string RejectionReason(std::vector<zmq::message_t> frames,
                            Status::Code expected_code) {
  std::string reason = "unset";
  const StatusOr<Message> message = ParseMessage(std::move(frames), &reason);
  EXPECT_FALSE(message.ok());
  if (message.ok()) return "accepted";
  EXPECT_EQ(message.status().code(), expected_code)
      << message.status().ToString();
  EXPECT_FALSE(message.status().message().empty());
  return reason;
}

// Finishes an Envelope built by hand with proto::CreateEnvelope, so tests
// can set fields EnvelopeBuilder would not.
template <typename MakeBody>
Bytes HandBuiltEnvelope(uint16_t protocol_version, proto::Body type,
                        MakeBody make_body, uint8_t payload_frames) {
  flatbuffers::FlatBufferBuilder builder;
  const flatbuffers::Offset<void> body = make_body(builder);
  const auto envelope =
      proto::CreateEnvelope(builder, protocol_version,
                            /*worker_id=*/5, type, body, payload_frames);
  proto::FinishEnvelopeBuffer(builder, envelope);
  return Bytes(builder.GetBufferPointer(),
               builder.GetBufferPointer() + builder.GetSize());
}

flatbuffers::Offset<void> HeartbeatBody(flatbuffers::FlatBufferBuilder& b) {
  return proto::CreateHeartbeat(b).Union();
}

flatbuffers::Offset<void> NoBody(flatbuffers::FlatBufferBuilder& /*b*/) {
  return 0;
}

// A Push envelope announcing one payload frame, with every field set.
zmq::message_t PushEnvelope(EnvelopeBuilder& envelopes) {
  const auto push = proto::CreatePushDirect(
      envelopes.builder(), /*base_version=*/41, /*round=*/42, "dense",
      /*sent_unix_ns=*/-1234567890123LL, /*samples=*/9000, /*local_steps=*/8,
      /*train_loss=*/0.625F, /*compute_seconds=*/12.5,
      /*sync_wait_seconds=*/0.0078125);
  return envelopes.Finish(/*worker_id=*/3, proto::Body::Push, push.Union(),
                          /*payload_frames=*/1);
}

void ExpectPushFields(const Message& message) {
  EXPECT_EQ(message.kind(), proto::Body::Push);
  EXPECT_EQ(message.worker_id(), 3U);
  EXPECT_EQ(message.envelope().protocol_version(), kProtocolVersion);
  EXPECT_EQ(message.envelope().payload_frames(), 1);
  const proto::Push* push = message.envelope().body_as_Push();
  ASSERT_NE(push, nullptr);
  EXPECT_EQ(push->base_version(), 41U);
  EXPECT_EQ(push->round(), 42U);
  ASSERT_NE(push->codec(), nullptr);
  EXPECT_EQ(push->codec()->str(), "dense");
  EXPECT_EQ(push->sent_unix_ns(), -1234567890123LL);
  EXPECT_EQ(push->samples(), 9000U);
  EXPECT_EQ(push->local_steps(), 8U);
  EXPECT_EQ(push->train_loss(), 0.625F);
  EXPECT_EQ(push->compute_seconds(), 12.5);
  EXPECT_EQ(push->sync_wait_seconds(), 0.0078125);
}

TEST(WireTest, JoinEnvelopeParsesBack) {
  EnvelopeBuilder envelopes;
  const auto join = proto::CreateJoinDirect(
      envelopes.builder(), /*incarnation=*/17, /*model_dim=*/101770,
      "overlap-local-sgd", "dense", /*shard_size=*/15000);
  zmq::message_t frame =
      envelopes.Finish(/*worker_id=*/2, proto::Body::Join, join.Union(), 0);
  const size_t envelope_bytes = frame.size();

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame)), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->kind(), proto::Body::Join);
  EXPECT_EQ(message->worker_id(), 2U);
  EXPECT_EQ(message->num_payloads(), 0U);
  EXPECT_EQ(message->wire_bytes(), envelope_bytes);
  const proto::Join* parsed = message->envelope().body_as_Join();
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(parsed->incarnation(), 17U);
  EXPECT_EQ(parsed->model_dim(), 101770U);
  ASSERT_NE(parsed->algorithm(), nullptr);
  EXPECT_EQ(parsed->algorithm()->str(), "overlap-local-sgd");
  ASSERT_NE(parsed->codec(), nullptr);
  EXPECT_EQ(parsed->codec()->str(), "dense");
  EXPECT_EQ(parsed->shard_size(), 15000U);
}

TEST(WireTest, PushEnvelopeWithPayloadParsesBack) {
  EnvelopeBuilder envelopes;
  zmq::message_t envelope = PushEnvelope(envelopes);
  const size_t envelope_bytes = envelope.size();
  Bytes payload(4096);
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<uint8_t>(i * 7 + 1);
  }
  std::vector<zmq::message_t> frames = Frames(std::move(envelope));
  frames.push_back(FrameFromBytes(payload));

  std::string reason;
  const StatusOr<Message> message = ParseMessage(std::move(frames), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  ExpectPushFields(*message);
  ASSERT_EQ(message->num_payloads(), 1U);
  EXPECT_EQ(BytesOf(message->payload(0)), payload);
  EXPECT_EQ(message->wire_bytes(), envelope_bytes + payload.size());
}

TEST(WireTest, WelcomeEnvelopeParsesBack) {
  EnvelopeBuilder envelopes;
  const auto welcome = proto::CreateWelcomeDirect(
      envelopes.builder(), /*anchor_version=*/9, /*next_round=*/10, "dense",
      /*num_workers=*/4);
  zmq::message_t frame = envelopes.Finish(
      /*worker_id=*/1, proto::Body::Welcome, welcome.Union(), 1);

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame), {Bytes(16, 0xab)}), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->kind(), proto::Body::Welcome);
  const proto::Welcome* parsed = message->envelope().body_as_Welcome();
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(parsed->anchor_version(), 9U);
  EXPECT_EQ(parsed->next_round(), 10U);
  ASSERT_NE(parsed->codec(), nullptr);
  EXPECT_EQ(parsed->codec()->str(), "dense");
  EXPECT_EQ(parsed->num_workers(), 4U);
  EXPECT_EQ(BytesOf(message->payload(0)), Bytes(16, 0xab));
}

TEST(WireTest, AnchorEnvelopeParsesBack) {
  EnvelopeBuilder envelopes;
  const auto anchor = proto::CreateAnchorDirect(
      envelopes.builder(), /*version=*/0xFFFFFFFFFFFFULL, /*next_round=*/77,
      "dense", /*push_sent_unix_ns=*/1700000000123456789LL);
  zmq::message_t frame = envelopes.Finish(
      /*worker_id=*/0xFFFFFFFFU, proto::Body::Anchor, anchor.Union(), 1);

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame), {Bytes{1, 2, 3, 4}}), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->kind(), proto::Body::Anchor);
  EXPECT_EQ(message->worker_id(), 0xFFFFFFFFU);
  const proto::Anchor* parsed = message->envelope().body_as_Anchor();
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(parsed->version(), 0xFFFFFFFFFFFFULL);
  EXPECT_EQ(parsed->next_round(), 77U);
  ASSERT_NE(parsed->codec(), nullptr);
  EXPECT_EQ(parsed->codec()->str(), "dense");
  EXPECT_EQ(parsed->push_sent_unix_ns(), 1700000000123456789LL);
  ASSERT_EQ(message->num_payloads(), 1U);
  EXPECT_EQ(BytesOf(message->payload(0)), (Bytes{1, 2, 3, 4}));
}

TEST(WireTest, HeartbeatEnvelopeParsesBack) {
  EnvelopeBuilder envelopes;
  const auto heartbeat = proto::CreateHeartbeat(envelopes.builder());
  zmq::message_t frame = envelopes.Finish(
      /*worker_id=*/6, proto::Body::Heartbeat, heartbeat.Union(), 0);

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame)), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->kind(), proto::Body::Heartbeat);
  EXPECT_EQ(message->worker_id(), 6U);
  EXPECT_NE(message->envelope().body_as_Heartbeat(), nullptr);
  EXPECT_EQ(message->num_payloads(), 0U);
}

TEST(WireTest, LeaveAndDoneEnvelopesParseBack) {
  EnvelopeBuilder envelopes;
  const auto leave =
      proto::CreateLeaveDirect(envelopes.builder(), "shutting down");
  zmq::message_t leave_frame =
      envelopes.Finish(/*worker_id=*/2, proto::Body::Leave, leave.Union(), 0);
  const auto done = proto::CreateDoneDirect(
      envelopes.builder(), /*anchor_version=*/500, "max-versions");
  zmq::message_t done_frame =
      envelopes.Finish(/*worker_id=*/2, proto::Body::Done, done.Union(), 0);

  std::string reason;
  const StatusOr<Message> left =
      ParseMessage(Frames(std::move(leave_frame)), &reason);
  const StatusOr<Message> finished =
      ParseMessage(Frames(std::move(done_frame)), &reason);

  ASSERT_TRUE(left.ok()) << left.status().ToString();
  const proto::Leave* parsed_leave = left->envelope().body_as_Leave();
  ASSERT_NE(parsed_leave, nullptr);
  ASSERT_NE(parsed_leave->reason(), nullptr);
  EXPECT_EQ(parsed_leave->reason()->str(), "shutting down");
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  const proto::Done* parsed_done = finished->envelope().body_as_Done();
  ASSERT_NE(parsed_done, nullptr);
  EXPECT_EQ(parsed_done->anchor_version(), 500U);
  ASSERT_NE(parsed_done->reason(), nullptr);
  EXPECT_EQ(parsed_done->reason()->str(), "max-versions");
}

TEST(WireTest, ErrorEnvelopeParsesBack) {
  EnvelopeBuilder envelopes;
  const auto error = proto::CreateErrorDirect(
      envelopes.builder(), proto::ErrorCode::WrongDimension,
      "model of 10 floats, expected 12 \"quoted\"\n");
  zmq::message_t frame =
      envelopes.Finish(/*worker_id=*/0, proto::Body::Error, error.Union(), 0);

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame)), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->kind(), proto::Body::Error);
  EXPECT_EQ(message->worker_id(), 0U);
  const proto::Error* parsed = message->envelope().body_as_Error();
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(parsed->code(), proto::ErrorCode::WrongDimension);
  ASSERT_NE(parsed->text(), nullptr);
  EXPECT_EQ(parsed->text()->str(),
            "model of 10 floats, expected 12 \"quoted\"\n");
}

TEST(WireTest, EnvelopeBuilderIsReusableAcrossMessages) {
  EnvelopeBuilder envelopes;
  zmq::message_t first = PushEnvelope(envelopes);
  const auto heartbeat = proto::CreateHeartbeat(envelopes.builder());
  zmq::message_t second = envelopes.Finish(
      /*worker_id=*/8, proto::Body::Heartbeat, heartbeat.Union(), 0);
  zmq::message_t third = PushEnvelope(envelopes);

  EXPECT_EQ(BytesOf(first), BytesOf(third));
  std::string reason;
  const StatusOr<Message> parsed_first =
      ParseMessage(Frames(std::move(first), {Bytes(4, 0)}), &reason);
  const StatusOr<Message> parsed_second =
      ParseMessage(Frames(std::move(second)), &reason);
  ASSERT_TRUE(parsed_first.ok()) << parsed_first.status().ToString();
  ExpectPushFields(*parsed_first);
  ASSERT_TRUE(parsed_second.ok()) << parsed_second.status().ToString();
  EXPECT_EQ(parsed_second->kind(), proto::Body::Heartbeat);
  EXPECT_EQ(parsed_second->worker_id(), 8U);
}

TEST(WireTest, AcceptsTheMaximumNumberOfPayloadFrames) {
  EnvelopeBuilder envelopes;
  const auto heartbeat = proto::CreateHeartbeat(envelopes.builder());
  zmq::message_t frame =
      envelopes.Finish(1, proto::Body::Heartbeat, heartbeat.Union(),
                       static_cast<uint8_t>(kMaxPayloadFrames));
  std::vector<Bytes> payloads;
  for (size_t i = 0; i < kMaxPayloadFrames; ++i) {
    payloads.push_back(Bytes(i + 1, static_cast<uint8_t>(i)));
  }

  std::string reason;
  const StatusOr<Message> message =
      ParseMessage(Frames(std::move(frame), payloads), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  ASSERT_EQ(message->num_payloads(), kMaxPayloadFrames);
  for (size_t i = 0; i < kMaxPayloadFrames; ++i) {
    EXPECT_EQ(BytesOf(message->payload(i)), payloads[i]) << "payload " << i;
  }
}

TEST(WireTest, TruncatedEnvelopeIsVerifyError) {
  EnvelopeBuilder envelopes;
  const Bytes whole = BytesOf(PushEnvelope(envelopes));
  for (const size_t size : {size_t{0}, size_t{3}, size_t{4}, size_t{7},
                            size_t{8}, size_t{12}, whole.size() / 2}) {
    const Bytes truncated(whole.begin(),
                          whole.begin() + static_cast<std::ptrdiff_t>(size));

    const std::string reason = RejectionReason(
        Frames(CopyFrame(truncated), {Bytes(4, 0)}), Status::Code::kDataLoss);

    EXPECT_EQ(reason, "verify")
        << "truncated to " << size << " of " << whole.size() << " bytes";
  }
}

TEST(WireTest, RandomGarbageIsVerifyError) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 512);
  for (int trial = 0; trial < 200; ++trial) {
    Bytes garbage(length(random));
    for (uint8_t& b : garbage) {
      b = static_cast<uint8_t>(byte(random));
    }

    const std::string reason =
        RejectionReason(Frames(CopyFrame(garbage)), Status::Code::kDataLoss);

    EXPECT_EQ(reason, "verify") << "trial " << trial << " (seed 20240611)";
  }
}

TEST(WireTest, WrongFileIdentifierIsVerifyError) {
  EnvelopeBuilder envelopes;
  Bytes bytes = BytesOf(PushEnvelope(envelopes));
  ASSERT_EQ(std::memcmp(bytes.data() + 4, "ANC1", 4), 0);
  std::memcpy(bytes.data() + 4, "ANC2", 4);

  const std::string reason = RejectionReason(
      Frames(CopyFrame(bytes), {Bytes(4, 0)}), Status::Code::kDataLoss);

  EXPECT_EQ(reason, "verify");
}

TEST(WireTest, OtherProtocolVersionIsRejected) {
  for (const uint16_t version :
       {uint16_t{0}, static_cast<uint16_t>(kProtocolVersion + 1),
        uint16_t{0xFFFF}}) {
    const Bytes bytes = HandBuiltEnvelope(version, proto::Body::Heartbeat,
                                          HeartbeatBody, /*payload_frames=*/0);
    std::string reason;

    const StatusOr<Message> message =
        ParseMessage(Frames(CopyFrame(bytes)), &reason);

    ASSERT_FALSE(message.ok()) << "version " << version;
    EXPECT_EQ(message.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(reason, "protocol_version") << "version " << version;
    EXPECT_NE(message.status().message().find(std::to_string(version)),
              std::string::npos)
        << message.status().ToString();
  }
}

TEST(WireTest, HandBuiltEnvelopeWithCurrentVersionIsAccepted) {
  const Bytes bytes =
      HandBuiltEnvelope(kProtocolVersion, proto::Body::Heartbeat, HeartbeatBody,
                        /*payload_frames=*/0);
  std::string reason;

  const StatusOr<Message> message =
      ParseMessage(Frames(CopyFrame(bytes)), &reason);

  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->worker_id(), 5U);
}

TEST(WireTest, MissingPayloadFrameIsPayloadError) {
  EnvelopeBuilder envelopes;

  const std::string reason = RejectionReason(Frames(PushEnvelope(envelopes)),
                                             Status::Code::kInvalidArgument);

  EXPECT_EQ(reason, "payload");
}

TEST(WireTest, UnannouncedPayloadFramesArePayloadError) {
  EnvelopeBuilder envelopes;
  const auto heartbeat = proto::CreateHeartbeat(envelopes.builder());
  zmq::message_t frame =
      envelopes.Finish(1, proto::Body::Heartbeat, heartbeat.Union(), 0);

  const std::string reason =
      RejectionReason(Frames(std::move(frame), {Bytes(4, 1), Bytes(4, 2)}),
                      Status::Code::kInvalidArgument);

  EXPECT_EQ(reason, "payload");
}

TEST(WireTest, TooManyFramesIsFramesError) {
  EnvelopeBuilder envelopes;
  const auto heartbeat = proto::CreateHeartbeat(envelopes.builder());
  zmq::message_t frame =
      envelopes.Finish(1, proto::Body::Heartbeat, heartbeat.Union(),
                       static_cast<uint8_t>(kMaxPayloadFrames + 1));
  const std::vector<Bytes> payloads(kMaxPayloadFrames + 1, Bytes(4, 0));

  const std::string reason = RejectionReason(Frames(std::move(frame), payloads),
                                             Status::Code::kInvalidArgument);

  EXPECT_EQ(reason, "frames");
}

TEST(WireTest, NoFramesIsFramesError) {
  const std::string reason =
      RejectionReason({}, Status::Code::kInvalidArgument);

  EXPECT_EQ(reason, "frames");
}

TEST(WireTest, EnvelopeOverTheLimitIsOversized) {
  EnvelopeBuilder envelopes;
  const std::string text(kMaxEnvelopeBytes, 'x');
  const auto error = proto::CreateErrorDirect(
      envelopes.builder(), proto::ErrorCode::Unknown, text.c_str());
  zmq::message_t frame =
      envelopes.Finish(1, proto::Body::Error, error.Union(), 0);
  ASSERT_GT(frame.size(), kMaxEnvelopeBytes);

  const std::string reason =
      RejectionReason(Frames(std::move(frame)), Status::Code::kInvalidArgument);

  EXPECT_EQ(reason, "oversized");
}

TEST(WireTest, EnvelopeExactlyAtTheLimitIsAccepted) {
  // Trailing bytes after a FlatBuffer do not affect verification, so padding
  // a valid envelope reaches the limit exactly.
  EnvelopeBuilder envelopes;
  Bytes bytes = BytesOf(PushEnvelope(envelopes));
  bytes.resize(kMaxEnvelopeBytes, 0);
  Bytes one_over = bytes;
  one_over.push_back(0);
  std::string reason;

  const StatusOr<Message> at_limit =
      ParseMessage(Frames(CopyFrame(bytes), {Bytes(4, 0)}), &reason);
  const std::string over_reason =
      RejectionReason(Frames(CopyFrame(one_over), {Bytes(4, 0)}),
                      Status::Code::kInvalidArgument);

  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  ExpectPushFields(*at_limit);
  EXPECT_EQ(over_reason, "oversized");
}

TEST(WireTest, EnvelopeWithoutBodyIsVerifyError) {
  const Bytes bytes = HandBuiltEnvelope(kProtocolVersion, proto::Body::NONE,
                                        NoBody, /*payload_frames=*/0);

  const std::string reason =
      RejectionReason(Frames(CopyFrame(bytes)), Status::Code::kDataLoss);

  EXPECT_EQ(reason, "verify");
}

// A body type whose table is absent verifies (FlatBuffers treats an absent
// union member as valid), and body_as_Join() then returns nullptr; the
// server dereferences it. ParseMessage must reject it like a missing body.
TEST(WireTest, BodyTypeWithoutBodyTableIsVerifyError) {
  for (const proto::Body type :
       {proto::Body::Join, proto::Body::Push, proto::Body::Leave,
        proto::Body::Anchor, proto::Body::Welcome, proto::Body::Error}) {
    const Bytes bytes = HandBuiltEnvelope(kProtocolVersion, type, NoBody,
                                          /*payload_frames=*/0);

    const std::string reason =
        RejectionReason(Frames(CopyFrame(bytes)), Status::Code::kDataLoss);

    EXPECT_EQ(reason, "verify") << proto::EnumNameBody(type);
  }
}

TEST(WireTest, MisalignedEnvelopeFrameParses) {
  EnvelopeBuilder envelopes;
  const Bytes bytes = BytesOf(PushEnvelope(envelopes));
  for (size_t offset = 1; offset < 8; ++offset) {
    // Storage that outlives the frame; the frame points into it at an odd
    // address without copying, as libzmq's decoder hands out slices.
    std::vector<uint64_t> storage(bytes.size() / 8 + 2);
    uint8_t* start = reinterpret_cast<uint8_t*>(storage.data()) + offset;
    std::memcpy(start, bytes.data(), bytes.size());
    zmq::message_t frame(start, bytes.size(), [](void*, void*) {});
    ASSERT_EQ(frame.data(), start);
    ASSERT_NE(reinterpret_cast<std::uintptr_t>(frame.data()) % 8, 0U);
    std::string reason;

    const StatusOr<Message> message =
        ParseMessage(Frames(std::move(frame), {Bytes(4, 9)}), &reason);

    ASSERT_TRUE(message.ok())
        << "offset " << offset << ": " << message.status().ToString();
    ExpectPushFields(*message);
    // Fields are read from an aligned copy, not from the odd address.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&message->envelope()) %
                  alignof(flatbuffers::uoffset_t),
              0U)
        << "offset " << offset;
    EXPECT_EQ(message->wire_bytes(), bytes.size() + 4);
  }
}

TEST(WireTest, FrameFromBytesTakesOwnershipWithoutCopying) {
  Bytes bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(i % 251);
  }
  const Bytes expected = bytes;
  const uint8_t* original = bytes.data();

  const zmq::message_t frame = FrameFromBytes(std::move(bytes));

  EXPECT_EQ(frame.data(), original);
  EXPECT_EQ(BytesOf(frame), expected);
}

TEST(WireTest, FrameFromEmptyBytesIsEmptyFrame) {
  const zmq::message_t frame = FrameFromBytes({});

  EXPECT_EQ(frame.size(), 0U);
}

// Reads every field of a parsed message, so ASan/UBSan builds catch reads
// outside the verified buffer.
void TouchEverything(const Message& message) {
  const proto::Envelope& envelope = message.envelope();
  volatile uint64_t sink = envelope.worker_id() + envelope.protocol_version() +
                           envelope.payload_frames() +
                           static_cast<uint64_t>(message.kind());
  // Floating-point fields are summed as doubles: converting a mutated value
  // such as 1e107 to an integer would be undefined behaviour in the test.
  volatile double real_sink = 0.0;
  if (const proto::Push* push = envelope.body_as_Push()) {
    sink = sink + push->base_version() + push->round() + push->samples() +
           push->local_steps() + static_cast<uint64_t>(push->sent_unix_ns());
    real_sink = real_sink + push->train_loss() + push->compute_seconds() +
                push->sync_wait_seconds();
    if (push->codec() != nullptr) sink = sink + push->codec()->str().size();
  }
  if (const proto::Join* join = envelope.body_as_Join()) {
    sink = sink + join->incarnation() + join->model_dim() + join->shard_size();
    if (join->algorithm() != nullptr) sink = sink + join->algorithm()->size();
    if (join->codec() != nullptr) sink = sink + join->codec()->size();
  }
  if (const proto::Error* error = envelope.body_as_Error()) {
    sink = sink + static_cast<uint64_t>(error->code());
    if (error->text() != nullptr) sink = sink + error->text()->str().size();
  }
  for (size_t i = 0; i < message.num_payloads(); ++i) {
    for (const uint8_t b : message.payload(i)) {
      sink = sink + b;
    }
  }
  (void)sink;
  (void)real_sink;
}

// Applies one random edit to `bytes`: overwrite or flip a byte, truncate,
// append, insert (shifting every offset after it), or plant a huge offset.
void Mutate(std::mt19937& random, Bytes* bytes) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> kind(0, 5);
  std::uniform_int_distribution<size_t> position(
      0, bytes->empty() ? 0 : bytes->size() - 1);
  switch (kind(random)) {
    case 0:
      if (!bytes->empty()) {
        (*bytes)[position(random)] = static_cast<uint8_t>(byte(random));
      }
      break;
    case 1:
      if (!bytes->empty()) {
        (*bytes)[position(random)] ^=
            static_cast<uint8_t>(1U << (byte(random) % 8));
      }
      break;
    case 2:
      bytes->resize(position(random));
      break;
    case 3:
      for (int i = byte(random) % 16; i >= 0; --i) {
        bytes->push_back(static_cast<uint8_t>(byte(random)));
      }
      break;
    case 4:
      bytes->insert(
          bytes->begin() + static_cast<std::ptrdiff_t>(position(random)),
          static_cast<uint8_t>(byte(random)));
      break;
    default: {
      const size_t at = position(random) & ~size_t{3};
      const uint32_t big = 0x7FFFFFF0U + static_cast<uint32_t>(byte(random));
      if (at + 4 <= bytes->size()) std::memcpy(bytes->data() + at, &big, 4);
      break;
    }
  }
}

TEST(WireTest, RandomMutationsNeverCrashAndAlwaysExplainRejection) {
  constexpr uint32_t kSeed = 7741;
  constexpr int kTrials = 2000;
  const std::set<std::string> labels = {"frames", "oversized", "verify",
                                        "protocol_version", "payload"};
  EnvelopeBuilder envelopes;
  const Bytes valid = BytesOf(PushEnvelope(envelopes));
  std::mt19937 random(kSeed);
  std::uniform_int_distribution<int> mutations(1, 4);
  std::uniform_int_distribution<size_t> payload_count(0, 2);
  int accepted = 0;
  int rejected = 0;

  for (int trial = 0; trial < kTrials; ++trial) {
    Bytes bytes = valid;
    for (int m = mutations(random); m > 0; --m) {
      Mutate(random, &bytes);
    }
    std::vector<zmq::message_t> frames = Frames(CopyFrame(bytes));
    for (size_t i = payload_count(random); i > 0; --i) {
      frames.push_back(CopyFrame(Bytes(8)));
    }
    std::string reason;

    const StatusOr<Message> message = ParseMessage(std::move(frames), &reason);

    if (message.ok()) {
      ++accepted;
      TouchEverything(*message);
    } else {
      ++rejected;
      EXPECT_EQ(labels.count(reason), 1U)
          << "trial " << trial << " (seed " << kSeed << "): reason '" << reason
          << "' for " << message.status().ToString();
    }
  }

  EXPECT_GT(rejected, kTrials / 4) << "seed " << kSeed;
  EXPECT_GT(accepted, 0) << "seed " << kSeed;
}

// Frames over shared values copy nothing and keep the values alive until
// the last of them is freed.
TEST(FrameOverTest, FramesShareTheValuesUntilTheLastIsFreed) {
  auto values = std::make_shared<const std::vector<float>>(
      std::vector<float>{1.0F, 2.0F, 3.0F});
  const std::weak_ptr<const std::vector<float>> watch = values;
  zmq::message_t first = FrameOver(values);
  zmq::message_t second = FrameOver(std::move(values));
  EXPECT_EQ(first.data(), second.data());  // no copies
  EXPECT_EQ(first.size(), 3 * sizeof(float));
  first = zmq::message_t();
  EXPECT_FALSE(watch.expired());
  second = zmq::message_t();
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace anchorage::transport
