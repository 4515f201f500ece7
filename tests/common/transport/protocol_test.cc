// Every message kind built by protocol.h reads back with the same fields
// after passing through the wire checks (ParseMessage).
#include "common/transport/protocol.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::transport {
namespace {

Message Parse(Frames frames) {
  std::string reason;
  StatusOr<Message> message = ParseMessage(std::move(frames), &reason);
  EXPECT_TRUE(message.ok()) << message.status().ToString() << " " << reason;
  return std::move(message).value();
}

std::vector<uint8_t> Bytes(std::initializer_list<uint8_t> bytes) {
  return bytes;
}

TEST(ProtocolTest, JoinReadsBack) {
  EnvelopeBuilder builder;
  const algo::JoinRequest join{.worker = 3,
                               .incarnation = 9,
                               .model_dim = 1000,
                               .algorithm = "slowmo",
                               .codec = "sketch",
                               .codec_settings = "5 x 100 sketch"};
  const algo::JoinRequest read = ReadJoin(Parse(MakeJoin(builder, join, 64)));
  EXPECT_EQ(read.worker, 3U);
  EXPECT_EQ(read.incarnation, 9U);
  EXPECT_EQ(read.model_dim, 1000U);
  EXPECT_EQ(read.algorithm, "slowmo");
  EXPECT_EQ(read.codec, "sketch");
  EXPECT_EQ(read.codec_settings, "5 x 100 sketch");
}

TEST(ProtocolTest, PushReadsBackWithItsReportAndPayload) {
  EnvelopeBuilder builder;
  const algo::PushRequest push{.worker = 1,
                               .round = 12,
                               .base_version = 40,
                               .codec = "qsgd",
                               .sent_unix_ns = 123456789,
                               .report = {.samples = 256,
                                          .local_steps = 8,
                                          .train_loss = 0.5F,
                                          .compute_seconds = 1.5,
                                          .sync_wait_seconds = 0.25,
                                          .encode_seconds = 0.125,
                                          .quantized_pushes = 7,
                                          .quantization_bits_sum = 31,
                                          .first_step_unix_ns = 987654321}};
  const Message message = Parse(MakePush(builder, push, Bytes({1, 2, 3})));
  const algo::PushRequest read = ReadPush(message);
  EXPECT_EQ(read.worker, 1U);
  EXPECT_EQ(read.round, 12U);
  EXPECT_EQ(read.base_version, 40U);
  EXPECT_EQ(read.codec, "qsgd");
  EXPECT_EQ(read.sent_unix_ns, 123456789);
  EXPECT_EQ(read.report.samples, 256U);
  EXPECT_EQ(read.report.local_steps, 8U);
  EXPECT_EQ(read.report.train_loss, 0.5F);
  EXPECT_EQ(read.report.compute_seconds, 1.5);
  EXPECT_EQ(read.report.sync_wait_seconds, 0.25);
  EXPECT_EQ(read.report.encode_seconds, 0.125);
  EXPECT_EQ(read.report.quantized_pushes, 7U);
  EXPECT_EQ(read.report.quantization_bits_sum, 31U);
  EXPECT_EQ(read.report.first_step_unix_ns, 987654321);
  // The server's clock, not the worker's: only the server sets it.
  EXPECT_EQ(read.received_unix_ns, 0);
  ASSERT_EQ(read.payloads.size(), 1U);
  EXPECT_EQ(
      std::vector<uint8_t>(read.payloads[0].begin(), read.payloads[0].end()),
      Bytes({1, 2, 3}));
}

// A worker from before the first step's field sends a Push without it.
TEST(ProtocolTest, APushWithoutTheFirstStepReadsItAsZero) {
  EnvelopeBuilder builder;
  const auto push = proto::CreatePushDirect(
      builder.builder(), /*base_version=*/4, /*round=*/5, "dense",
      /*sent_unix_ns=*/1000, /*samples=*/64, /*local_steps=*/8,
      /*train_loss=*/0.5F, /*compute_seconds=*/1.0,
      /*sync_wait_seconds=*/0.5, /*encode_seconds=*/0.25);
  Frames frames;
  frames.push_back(builder.Finish(/*worker_id=*/2, proto::Body::Push,
                                  push.Union(), /*payload_frames=*/1));
  frames.push_back(FrameFromBytes(Bytes({1, 2, 3, 4})));

  const algo::PushRequest read = ReadPush(Parse(std::move(frames)));

  EXPECT_EQ(read.report.first_step_unix_ns, 0);
  EXPECT_EQ(read.report.samples, 64U);
}

TEST(ProtocolTest, AnchorCarriesTheAppliedIndicesAsASecondFrame) {
  EnvelopeBuilder builder;
  const auto applied = std::make_shared<const std::vector<uint32_t>>(
      std::vector<uint32_t>{4, 7});
  const algo::AnchorUpdate update{.worker = 2,
                                  .version = 5,
                                  .next_round = 6,
                                  .push_sent_unix_ns = 77,
                                  .applied = applied,
                                  .schedule_step = 1234};
  const Message message =
      Parse(MakeAnchor(builder, update, "dense", zmq::message_t(8)));
  const AnchorMessage read = ReadAnchorMessage(message);
  EXPECT_EQ(message.worker_id(), 2U);
  EXPECT_FALSE(read.header.welcome);
  EXPECT_EQ(read.header.version, 5U);
  EXPECT_EQ(read.header.next_round, 6U);
  EXPECT_EQ(read.push_sent_unix_ns, 77);
  EXPECT_EQ(read.header.schedule_step, 1234U);
  ASSERT_EQ(read.payloads.size(), 2U);
  EXPECT_EQ(read.payloads[0].size(), 8U);
  std::vector<uint32_t> indices(2);
  ASSERT_EQ(read.payloads[1].size(), 8U);
  std::memcpy(indices.data(), read.payloads[1].data(), 8);
  EXPECT_EQ(indices, *applied);
}

TEST(ProtocolTest, WelcomeReadsAsAnAnchorThatWelcomes) {
  EnvelopeBuilder builder;
  const AnchorMessage read = ReadAnchorMessage(Parse(MakeWelcome(
      builder, {.worker = 0, .version = 3, .next_round = 2, .workers = 4},
      0xfeedULL, "dense", true, zmq::message_t(4))));
  EXPECT_TRUE(read.header.welcome);
  EXPECT_EQ(read.run_id, 0xfeedULL);
  EXPECT_TRUE(read.ask_before_push);
  EXPECT_EQ(read.header.version, 3U);
  EXPECT_EQ(read.header.next_round, 2U);
  EXPECT_EQ(read.payloads.size(), 1U);
}

TEST(ProtocolTest, PushAskAndPushCreditCarryTheirRound) {
  EnvelopeBuilder builder;
  const Message ask = Parse(MakePushAsk(builder, 3, 17));
  EXPECT_EQ(ask.kind(), proto::Body::PushAsk);
  EXPECT_EQ(ask.worker_id(), 3U);
  EXPECT_EQ(ReadPushAskRound(ask), 17U);
  const Message credit = Parse(MakePushCredit(builder, 3, 17));
  EXPECT_EQ(credit.kind(), proto::Body::PushCredit);
  EXPECT_EQ(ReadPushCreditRound(credit), 17U);
}

TEST(ProtocolTest, QueryValuesLeaveDoneAndErrorReadBack) {
  EnvelopeBuilder builder;
  const QueryMessage query = ReadQuery(
      Parse(MakeQuery(builder, {.worker = 1, .round = 4}, zmq::message_t(12))));
  EXPECT_EQ(query.round, 4U);
  ASSERT_EQ(query.payloads.size(), 1U);
  EXPECT_EQ(query.payloads[0].size(), 12U);

  const algo::ValuesReply values =
      ReadValues(Parse(MakeValues(builder, 1, 4, Bytes({0, 0, 128, 63}))));
  EXPECT_EQ(values.worker, 1U);
  EXPECT_EQ(values.round, 4U);
  ASSERT_EQ(values.payloads.size(), 1U);

  EXPECT_EQ(ReadLeaveReason(Parse(MakeLeave(builder, 1, "stopped"))),
            "stopped");
  EXPECT_EQ(ReadLeaveReason(Parse(MakeLeave(builder, 1, ""))), "left");

  const DoneMessage done =
      ReadDone(Parse(MakeDone(builder, 1, 99, "reached 2 epochs", true)));
  EXPECT_EQ(done.version, 99U);
  EXPECT_EQ(done.reason, "reached 2 epochs");
  EXPECT_TRUE(done.completed);
  EXPECT_FALSE(
      ReadDone(Parse(MakeDone(builder, 1, 9, "stopped by signal", false)))
          .completed);

  const ErrorMessage error = ReadError(
      Parse(MakeError(builder, 1, algo::Refusal::kWrongCodec, "uses topk")));
  EXPECT_EQ(error.code, proto::ErrorCode::WrongCodec);
  EXPECT_EQ(error.text, "uses topk");
  EXPECT_TRUE(RefusesAdmission(error.code));
  EXPECT_FALSE(RefusesAdmission(proto::ErrorCode::UnknownWorker));
}

}  // namespace
}  // namespace anchorage::transport
