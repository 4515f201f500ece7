// A misbehaving peer on a raw DEALER: each bad message gets an Error reply
// and a rejection count under its reason, the anchor is untouched, and the
// server goes on serving real workers.
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/algo/algorithm.h"
#include "common/codec/codec.h"
#include "common/transport/socket.h"
#include "common/transport/wire.h"
#include "tests/testing/raw_peer.h"
#include "tests/testing/registry_values.h"
#include "tests/testing/service_fixture.h"
#include "tests/testing/wait_for.h"

namespace anchorage {
namespace {

using std::chrono::seconds;
using testing::MetricValue;
using testing::RawPeer;
using testing::ServiceFixture;
using testing::SmallRunConfig;
using testing::WaitFor;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::RunConfig config = SmallRunConfig();
    config.server.heartbeat_liveness = 500;  // the raw peer sends no heartbeats
    fixture_ = std::make_unique<ServiceFixture>(config);
    ASSERT_TRUE(fixture_->StartServer());
    dim_ = static_cast<uint64_t>(fixture_->server().model_dim());
  }

  double Rejected(const std::string& reason) {
    return MetricValue(fixture_->server_registry(),
                       "anchorage_server_rejected_messages_total",
                       {{"reason", reason}});
  }

  double Version() {
    return MetricValue(fixture_->server_registry(),
                       "anchorage_server_anchor_version");
  }

  std::unique_ptr<ServiceFixture> fixture_;
  uint64_t dim_ = 0;
};

TEST_F(BadInputTest, GarbageFrameIsRejectedAsUnverifiable) {
  RawPeer peer(fixture_->endpoint(), "w0");
  std::vector<zmq::message_t> frames;
  frames.emplace_back(std::string("this is not a flatbuffer at all"));
  peer.Send(std::move(frames));
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("verify"), 1.0);
}

TEST_F(BadInputTest, TruncatedEnvelopeIsRejected) {
  RawPeer peer(fixture_->endpoint(), "w0");
  transport::EnvelopeBuilder builder;
  const auto body = proto::CreateJoinDirect(builder.builder(), 1, dim_,
                                            "overlap-local-sgd", "dense", 10);
  zmq::message_t whole = builder.Finish(0, proto::Body::Join, body.Union(), 0);
  std::vector<zmq::message_t> frames;
  frames.emplace_back(whole.data(), whole.size() / 2);
  peer.Send(std::move(frames));
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("verify"), 1.0);
}

TEST_F(BadInputTest, WrongProtocolVersionIsRejected) {
  RawPeer peer(fixture_->endpoint(), "w0");
  flatbuffers::FlatBufferBuilder builder;
  const auto body = proto::CreateHeartbeat(builder);
  const auto envelope =
      proto::CreateEnvelope(builder, transport::kProtocolVersion + 1, 0,
                            proto::Body::Heartbeat, body.Union(), 0);
  proto::FinishEnvelopeBuffer(builder, envelope);
  std::vector<zmq::message_t> frames;
  frames.emplace_back(builder.GetBufferPointer(), builder.GetSize());
  peer.Send(std::move(frames));
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("protocol_version"), 1.0);
}

TEST_F(BadInputTest, TooManyFramesAreRejected) {
  RawPeer peer(fixture_->endpoint(), "w0");
  std::vector<zmq::message_t> frames;
  frames.reserve(12);
  for (int i = 0; i < 12; ++i) {
    frames.emplace_back(std::string("x"));
  }
  peer.Send(std::move(frames));
  // Nothing of it can be trusted, so there is no reply; the count shows it.
  ASSERT_TRUE(WaitFor([&] { return Rejected("frames") >= 1.0; }, seconds(10)));
}

TEST_F(BadInputTest, JoinRefusalsNameTheProblem) {
  RawPeer peer(fixture_->endpoint(), "w0");
  peer.SendJoin(0, dim_ + 1, "overlap-local-sgd");
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::WrongDimension);
  peer.SendJoin(0, dim_, "local-sgd");
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::WrongAlgorithm);
  peer.SendJoin(0, dim_, "overlap-local-sgd", "zip");
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::WrongCodec);
  peer.SendJoin(7, dim_, "overlap-local-sgd");
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::UnknownWorker);
  EXPECT_EQ(Rejected("dimension"), 1.0);
  EXPECT_EQ(Rejected("algorithm"), 1.0);
  EXPECT_EQ(Rejected("codec"), 1.0);
  EXPECT_EQ(Rejected("unknown_worker"), 1.0);
}

TEST_F(BadInputTest, ValuesNobodyAskedForAreRejected) {
  RawPeer peer(fixture_->endpoint(), "w0");
  peer.SendJoin(0, dim_, "overlap-local-sgd");
  ASSERT_TRUE(peer.Expect(proto::Body::Welcome).has_value());
  peer.SendValues(0, 0, {0, 0, 0, 0});
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("unexpected"), 1.0);
}

TEST_F(BadInputTest, PushBeforeJoinIsRejected) {
  RawPeer peer(fixture_->endpoint(), "w0");
  peer.SendPush(0, std::vector<float>(dim_, 0.0F));
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::UnknownWorker);
  EXPECT_EQ(Rejected("unknown_worker"), 1.0);
  EXPECT_EQ(Version(), 0.0);
}

TEST_F(BadInputTest, MalformedPushesLeaveTheAnchorAlone) {
  RawPeer peer(fixture_->endpoint(), "w0");
  peer.SendJoin(0, dim_, "overlap-local-sgd");
  ASSERT_TRUE(peer.Expect(proto::Body::Welcome).has_value());
  peer.SendPush(0, std::vector<float>(dim_ - 1, 1.0F));
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  peer.SendPush(0, std::vector<float>(dim_, 1.0F), /*payloads=*/0);
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  std::vector<float> poisoned(dim_, 1.0F);
  poisoned[3] = std::numeric_limits<float>::quiet_NaN();
  peer.SendPush(0, poisoned);
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("decode"), 1.0);
  EXPECT_EQ(Rejected("payload"), 1.0);
  EXPECT_EQ(Rejected("non_finite"), 1.0);
  EXPECT_EQ(Version(), 0.0);

  // A good push still lands, and then a real worker trains to the end.
  peer.SendPush(0, std::vector<float>(dim_, 0.5F));
  std::optional<transport::Message> anchor = peer.Expect(proto::Body::Anchor);
  ASSERT_TRUE(anchor.has_value());
  EXPECT_EQ(anchor->envelope().body_as_Anchor()->version(), 1U);
  ASSERT_TRUE(fixture_->StartWorker(1));
  const std::optional<summary::RunSummary> summary =
      fixture_->WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_GE(summary->epochs, 5.0);
  EXPECT_EQ(summary->pushes_rejected, 3);
}

// Compressed pushes carry the pseudo-gradient against the anchor the worker
// was sent; each way of breaking one is refused by name and the server
// then still takes a good push from the same peer.
struct BrokenPayload {
  std::string codec;
  std::string what;
  // Breaks a good encoding of a vector of `dim` floats.
  std::function<void(std::vector<uint8_t>*, uint64_t dim)> corrupt;
  // The sketched codecs need sync rounds.
  algo::Algorithm algorithm = algo::Algorithm::kOverlapLocalSgd;
};

void PrintTo(const BrokenPayload& payload, std::ostream* os) {
  *os << payload.codec << "/" << payload.what;
}

class CompressedPushTest : public ::testing::TestWithParam<BrokenPayload> {};

TEST_P(CompressedPushTest, IsRefusedByNameAndTheServerGoesOn) {
  const BrokenPayload& broken = GetParam();
  config::RunConfig config = SmallRunConfig();
  config.train.codec = broken.codec;
  config.train.algorithm = broken.algorithm;
  config.train.workers = 1;  // a sync round closes on this peer alone
  config.server.heartbeat_liveness = 500;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  const auto dim = static_cast<uint64_t>(fixture.server().model_dim());
  auto rejected = [&](const std::string& reason) {
    return MetricValue(fixture.server_registry(),
                       "anchorage_server_rejected_messages_total",
                       {{"reason", reason}});
  };
  std::unique_ptr<codec::Codec> codec =
      codec::MakeCodec(broken.codec, static_cast<int64_t>(dim),
                       config.CodecSettings(0, 100))
          .value();
  RawPeer peer(fixture.endpoint(), "w0");
  peer.SendJoin(0, dim, std::string(algo::AlgorithmName(broken.algorithm)),
                broken.codec, codec->settings());
  ASSERT_TRUE(peer.Expect(proto::Body::Welcome).has_value());

  std::vector<float> delta(dim);
  for (size_t i = 0; i < delta.size(); ++i) {
    delta[i] = 0.01F * static_cast<float>(i % 7) - 0.03F;
  }
  std::vector<uint8_t> good;
  ASSERT_TRUE(codec->Encode(delta, &good).ok());
  std::vector<uint8_t> bad = good;
  broken.corrupt(&bad, dim);
  peer.SendEncodedPush(0, broken.codec, {}, bad);
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(rejected("decode"), 1.0);

  // A good payload against an anchor this worker was never sent.
  peer.SendEncodedPush(0, broken.codec, {.base_version = 7}, good);
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(rejected("base_version"), 1.0);
  EXPECT_EQ(
      MetricValue(fixture.server_registry(), "anchorage_server_anchor_version"),
      0.0);

  peer.SendEncodedPush(0, broken.codec, {}, good);
  if (broken.codec == "sketch") {
    // The second round: answers of the wrong size are refused, and the
    // round closes without them.
    std::optional<transport::Message> query = peer.Expect(proto::Body::Query);
    ASSERT_TRUE(query.has_value());
    peer.SendValues(0, query->envelope().body_as_Query()->round(), {1, 2, 3});
    EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::BadMessage);
    EXPECT_EQ(rejected("decode"), 2.0);
  }
  std::optional<transport::Message> anchor = peer.Expect(proto::Body::Anchor);
  ASSERT_TRUE(anchor.has_value());
  EXPECT_EQ(anchor->envelope().body_as_Anchor()->version(), 1U);
}

TEST(SketchJoinTest, AnotherSketchShapeIsRefusedAtJoin) {
  config::RunConfig config = SmallRunConfig();
  config.train.codec = "sketch";
  config.train.algorithm = algo::Algorithm::kLocalSgd;
  config.server.heartbeat_liveness = 500;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  const auto dim = static_cast<uint64_t>(fixture.server().model_dim());
  codec::CodecOptions other = config.CodecSettings(0, 100);
  other.sketch_columns = 7;
  const std::string settings =
      codec::MakeCodec("sketch", static_cast<int64_t>(dim), other)
          .value()
          ->settings();
  RawPeer peer(fixture.endpoint(), "w0");
  peer.SendJoin(0, dim, "local-sgd", "sketch", settings);
  EXPECT_EQ(peer.ExpectError(), proto::ErrorCode::WrongCodec);
  EXPECT_EQ(MetricValue(fixture.server_registry(),
                        "anchorage_server_rejected_messages_total",
                        {{"reason", "codec"}}),
            1.0);
}

void Truncate(std::vector<uint8_t>* bytes, uint64_t) {
  bytes->resize(bytes->size() - 3);
}

void WriteU32(std::vector<uint8_t>* bytes, size_t offset, uint32_t value) {
  std::memcpy(bytes->data() + offset, &value, sizeof(value));
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, CompressedPushTest,
    ::testing::Values(
        BrokenPayload{"qsgd", "truncated", Truncate},
        // Offset 1 of a QSGD header is the bit width, in [2, 16].
        BrokenPayload{"qsgd", "impossible_bit_width",
                      [](std::vector<uint8_t>* b, uint64_t) { (*b)[1] = 40; }},
        BrokenPayload{"dqsgd", "impossible_bit_width",
                      [](std::vector<uint8_t>* b, uint64_t) { (*b)[1] = 1; }},
        BrokenPayload{"topk", "truncated", Truncate},
        // The first top-k entry's index (offset 13) past the dimension.
        BrokenPayload{"topk", "index_out_of_range",
                      [](std::vector<uint8_t>* b, uint64_t dim) {
                        WriteU32(b, 13, static_cast<uint32_t>(dim));
                      }},
        BrokenPayload{"fp16", "truncated", Truncate},
        // A sketch header: u8 magic, u8 rows, u64 columns, u64 dim, u64 seed.
        BrokenPayload{"sketch", "other_seed",
                      [](std::vector<uint8_t>* b, uint64_t) { (*b)[18] ^= 1; },
                      algo::Algorithm::kLocalSgd},
        BrokenPayload{"sketch", "other_shape",
                      [](std::vector<uint8_t>* b, uint64_t) { (*b)[1] = 4; },
                      algo::Algorithm::kLocalSgd},
        BrokenPayload{"fetchsgd", "truncated", Truncate,
                      algo::Algorithm::kLocalSgd}),
    [](const ::testing::TestParamInfo<BrokenPayload>& param) {
      return param.param.codec + "_" + param.param.what;
    });

TEST(LostWorkerTest, SilentWorkerIsDeclaredLostAndOthersFinish) {
  config::RunConfig config = SmallRunConfig();
  config.server.heartbeat_interval_ms = 30;
  config.server.heartbeat_liveness = 10;
  config.train.epochs = 60;  // long enough to notice the silence
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  RawPeer silent(fixture.endpoint(), "w1");
  silent.SendJoin(1, static_cast<uint64_t>(fixture.server().model_dim()),
                  "overlap-local-sgd");
  ASSERT_TRUE(silent.Expect(proto::Body::Welcome).has_value());
  ASSERT_TRUE(fixture.StartWorker(0));
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  // Worker 0 may be declared lost too on a loaded machine, but it rejoins
  // and leaves the list; the silent one stays on it.
  EXPECT_EQ(summary->lost_workers, std::vector<uint32_t>{1});
  EXPECT_GE(MetricValue(fixture.server_registry(),
                        "anchorage_server_workers_lost_total"),
            1.0);
  EXPECT_GE(summary->epochs, 60.0);
}

}  // namespace
}  // namespace anchorage
