// Hostile peers against a live plaintext run (DESIGN.md sections 3 and 10):
// a second connection claiming a live worker's id, a connection reusing
// another's routing id, pushes of huge or overflowing models, out-of-range
// claims, and a flood of garbage from a peer that never reads. Each test
// asserts the state the attack could have changed: pushes applied, the
// anchor's finiteness and accuracy, the real workers' progress, and that
// the server still stops when asked.
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/algo/algorithm.h"
#include "common/transport/protocol.h"
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
using testing::WaitFor;

constexpr int kRealWorkers = 2;

// Two real workers train; ids 2 and 3 are left for raw peers.
class HostilePeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::RunConfig config = testing::SmallRunConfig();
    config.train.workers = kRealWorkers + 2;
    config.train.epochs = 100000;  // runs until the test stops it
    config.worker.min_step_seconds = 0.0005;
    config.server.heartbeat_liveness = 500;  // raw peers send no heartbeats
    config.server.eval_examples = 0;         // the whole test set: less noise
    fixture_ = std::make_unique<ServiceFixture>(config);
    ASSERT_TRUE(fixture_->StartServer());
    for (int id = 0; id < kRealWorkers; ++id) {
      ASSERT_TRUE(fixture_->StartWorker(id));
    }
    dim_ = static_cast<uint64_t>(fixture_->server().model_dim());
    ASSERT_TRUE(WaitFor([&] { return Version() >= 50; }));
  }

  double Server(const std::string& name,
                const std::map<std::string, std::string>& labels = {}) {
    return MetricValue(fixture_->server_registry(), name, labels);
  }
  double Rejected(const std::string& reason) {
    return Server("anchorage_server_rejected_messages_total",
                  {{"reason", reason}});
  }
  double Version() { return Server("anchorage_server_anchor_version"); }

  // The accuracy of the anchor's evaluations (every 50 ms) after 0.5 s
  // more of training.
  double AccuracyAfterAWhile() {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return Server("anchorage_server_eval_accuracy_ratio");
  }

  // A raw peer joined as worker `id`.
  std::unique_ptr<RawPeer> JoinedPeer(uint32_t id) {
    auto peer = std::make_unique<RawPeer>(fixture_->endpoint(), "");
    peer->SendJoin(id, dim_, "overlap-local-sgd");
    EXPECT_TRUE(peer->Expect(proto::Body::Welcome).has_value());
    return peer;
  }

  std::unique_ptr<ServiceFixture> fixture_;
  uint64_t dim_ = 0;
};

TEST_F(HostilePeerTest, ASecondConnectionClaimingALiveIdGetsNothing) {
  const double reconnects = MetricValue(fixture_->worker_registry(0),
                                        "anchorage_worker_reconnects_total");
  const double unknown = Rejected("unknown_worker");
  RawPeer impostor(fixture_->endpoint(), "");
  impostor.SendJoin(0, dim_, "overlap-local-sgd");
  EXPECT_EQ(impostor.ExpectError(), proto::ErrorCode::Duplicate);
  // A higher incarnation is not enough while worker 0's connection is open.
  impostor.SendJoin(0, dim_, "overlap-local-sgd", "dense", "", UINT64_MAX);
  EXPECT_EQ(impostor.ExpectError(), proto::ErrorCode::Duplicate);
  EXPECT_EQ(Rejected("identity"), 2.0);

  constexpr int kPushes = 50;
  for (int n = 0; n < kPushes; ++n) {
    impostor.SendPush(0, std::vector<float>(dim_, 0.0F));
  }
  ASSERT_TRUE(
      WaitFor([&] { return Rejected("unknown_worker") >= unknown + kPushes; }));
  // Every one of them was refused, and worker 0 goes on undisturbed.
  EXPECT_EQ(Rejected("unknown_worker"), unknown + kPushes);
  const double seen = MetricValue(fixture_->worker_registry(0),
                                  "anchorage_worker_anchor_version");
  EXPECT_TRUE(WaitFor([&] {
    return MetricValue(fixture_->worker_registry(0),
                       "anchorage_worker_anchor_version") > seen + 20;
  }));
  EXPECT_EQ(MetricValue(fixture_->worker_registry(0),
                        "anchorage_worker_reconnects_total"),
            reconnects);
  EXPECT_EQ(Server("anchorage_server_workers_connected"), kRealWorkers);
}

TEST_F(HostilePeerTest, ARoutingIdInUseIsNotHandedOver) {
  RawPeer owner(fixture_->endpoint(), "taken-id");
  owner.SendJoin(2, dim_, "overlap-local-sgd");
  const std::optional<transport::Message> welcome =
      owner.Expect(proto::Body::Welcome);
  ASSERT_TRUE(welcome.has_value());
  const std::span<const uint8_t> anchor = welcome->payload(0);
  const std::vector<uint8_t> model(anchor.begin(), anchor.end());
  // A second connection with the same routing id: the server never reads
  // it and never sends it the owner's messages.
  RawPeer hijacker(fixture_->endpoint(), "taken-id");
  const double unknown = Rejected("unknown_worker");
  const double refused_pushes =
      Server("anchorage_server_pushes_total", {{"outcome", "rejected"}});
  hijacker.SendEncodedPush(2, "dense", {}, model);
  // The owner's push (the anchor it was sent) is answered to the owner.
  owner.SendEncodedPush(
      2, "dense",
      {.base_version = welcome->envelope().body_as_Welcome()->anchor_version()},
      model);
  ASSERT_TRUE(owner.Expect(proto::Body::Anchor).has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Rejected("unknown_worker"), unknown);
  EXPECT_EQ(Server("anchorage_server_pushes_total", {{"outcome", "rejected"}}),
            refused_pushes);
}

TEST_F(HostilePeerTest, HugeAndOverflowingPushesLeaveTheAnchorFinite) {
  const double before = AccuracyAfterAWhile();
  std::unique_ptr<RawPeer> huge = JoinedPeer(2);
  std::unique_ptr<RawPeer> overflowing = JoinedPeer(3);
  for (int n = 0; n < 5; ++n) {
    huge->SendPush(2, std::vector<float>(dim_, 1e30F));
    EXPECT_EQ(huge->ExpectError(), proto::ErrorCode::BadMessage);
    overflowing->SendPush(3, std::vector<float>(dim_, 3e38F));
    EXPECT_EQ(overflowing->ExpectError(), proto::ErrorCode::BadMessage);
  }
  EXPECT_EQ(Rejected("update_norm"), 10.0);
  // The attackers leave, so their slots (the anchor when they joined) stop
  // holding the async mean back; what is left to compare is the pushes.
  for (const uint32_t id : {2U, 3U}) {
    transport::EnvelopeBuilder builder;
    (id == 2 ? huge : overflowing)
        ->Send(transport::MakeLeave(builder, id, "done attacking"));
  }
  const double after = AccuracyAfterAWhile();
  EXPECT_TRUE(std::isfinite(after));
  EXPECT_GT(after, before - 0.01);
  EXPECT_TRUE(std::isfinite(Server("anchorage_server_eval_loss")));
}

TEST_F(HostilePeerTest, OutOfRangeClaimsAreRefusedAndTheRunGoesOn) {
  std::unique_ptr<RawPeer> liar = JoinedPeer(2);
  const std::vector<float> anchor(dim_, 0.0F);
  const auto* raw = reinterpret_cast<const uint8_t*>(anchor.data());
  const std::vector<uint8_t> bytes(raw, raw + anchor.size() * sizeof(float));
  liar->SendEncodedPush(2, "dense", {.samples = uint64_t{1} << 62}, bytes);
  EXPECT_EQ(liar->ExpectError(), proto::ErrorCode::BadMessage);
  liar->SendEncodedPush(2, "dense", {.round = uint64_t{1} << 63}, bytes);
  EXPECT_EQ(liar->ExpectError(), proto::ErrorCode::BadMessage);
  liar->SendEncodedPush(2, "dense", {.base_version = UINT64_MAX}, bytes);
  EXPECT_EQ(liar->ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(Rejected("statistics"), 1.0);
  EXPECT_EQ(Rejected("round"), 1.0);
  EXPECT_EQ(Rejected("base_version"), 1.0);
  const double version = Version();
  EXPECT_TRUE(WaitFor([&] { return Version() > version + 20; }));
  EXPECT_LT(Server("anchorage_server_epoch"), 100.0);
}

TEST_F(HostilePeerTest, AGarbageFloodNeitherStallsNorKeepsTheServerRunning) {
  RawPeer flooder(fixture_->endpoint(), "");
  const double version = Version();
  constexpr int kFrames = 200000;
  int sent = 0;
  for (; sent < kFrames; ++sent) {
    std::vector<zmq::message_t> frames;
    frames.emplace_back(std::string("not a message"));
    if (!flooder.Send(std::move(frames))) break;  // its queue stayed full
  }
  EXPECT_GT(sent, 1000);
  // The real workers kept training through it, and the flood's replies were
  // cut off instead of waited for.
  EXPECT_TRUE(WaitFor([&] { return Version() > version + 100; }));
  EXPECT_GT(Rejected("verify"), 1000.0);
  EXPECT_GT(Server("anchorage_server_replies_suppressed_total"), 0.0);
  fixture_->server().RequestStop();
  EXPECT_TRUE(fixture_->WaitForServer(seconds(5)).has_value());
}

// A structure-aware fuzz of the live server: valid messages of every kind
// the workers send, with mutated fields (worker ids, dimensions, versions,
// rounds, codec strings, frame counts, payload sizes), from one joined and
// one unjoined connection, while the real run goes on. Seeded, so a
// failure repeats.
TEST_F(HostilePeerTest, MutatedMessagesNeitherCrashNorDisturbTheRun) {
  const double before = AccuracyAfterAWhile();
  std::unique_ptr<RawPeer> joined = JoinedPeer(2);
  RawPeer stranger(fixture_->endpoint(), "");
  std::mt19937_64 rng(11);
  const auto pick = [&](std::initializer_list<uint64_t> choices) {
    return *(choices.begin() + rng() % choices.size());
  };
  const uint64_t dim = dim_;
  const auto payload = [&] {
    const size_t size =
        pick({0, 4 * dim, 4 * dim - 1, 4 * dim + 4, 2 * dim, rng() % 64});
    std::vector<uint8_t> bytes(size);
    const int fill = static_cast<int>(rng() % 3);
    for (size_t i = 0; i < size; i += 4) {
      const float value =
          fill == 0   ? 0.001F * static_cast<float>(rng() % 7)
          : fill == 1 ? 1e30F
                      : std::bit_cast<float>(static_cast<uint32_t>(rng()));
      std::memcpy(bytes.data() + i, &value, std::min<size_t>(4, size - i));
    }
    return bytes;
  };
  const auto codec = [&]() -> std::string {
    switch (rng() % 5) {
      case 0:
        return "dense";
      case 1:
        return "fp16";
      case 2:
        return "";
      case 3:
        return std::string(300, 'x');
      default:
        return std::string("\x01\n\xff", 3);
    }
  };
  constexpr int kMessages = 3000;
  for (int n = 0; n < kMessages; ++n) {
    RawPeer& peer = rng() % 4 == 0 ? stranger : *joined;
    const auto worker =
        static_cast<uint32_t>(pick({2, 2, 2, 0, 1, 3, 4, UINT32_MAX}));
    switch (rng() % 6) {
      case 0:
        peer.SendJoin(worker, pick({dim, dim + 1, 0, uint64_t{1} << 63}),
                      rng() % 2 ? "overlap-local-sgd" : codec(), codec(), "",
                      pick({1, 0, UINT64_MAX, rng()}));
        break;
      case 1:
      case 2:
        peer.SendEncodedPush(
            worker, codec(),
            {.base_version = pick({0, 1, rng() % 1000, UINT64_MAX}),
             .round = pick({0, 1, rng() % 1000, uint64_t{1} << 63}),
             .samples = pick({0, 16, uint64_t{1} << 62, UINT64_MAX}),
             .local_steps = pick({0, 1, 4, UINT64_MAX})},
            payload(), static_cast<uint8_t>(pick({1, 1, 0, 2, 3})));
        break;
      case 3:
        peer.SendValues(worker, pick({0, rng(), UINT64_MAX}), payload());
        break;
      case 4: {
        transport::EnvelopeBuilder builder;
        peer.Send(transport::MakePushAsk(builder, worker,
                                         pick({0, rng(), UINT64_MAX})));
        break;
      }
      default: {
        transport::EnvelopeBuilder builder;
        peer.Send(rng() % 2 ? transport::MakeHeartbeat(builder, worker)
                            : transport::MakeLeave(builder, worker, codec()));
      }
    }
  }
  // The server read all of it and the real workers kept training. (The
  // joined peer leaves, so its stale slot stops holding the mean back.)
  transport::EnvelopeBuilder builder;
  joined->Send(transport::MakeLeave(builder, 2, "done fuzzing"));
  const double version = Version();
  EXPECT_TRUE(WaitFor([&] { return Version() > version + 50; }));
  EXPECT_GE(Server("anchorage_server_workers_connected"), kRealWorkers);
  const double after = AccuracyAfterAWhile();
  EXPECT_TRUE(std::isfinite(Server("anchorage_server_eval_loss")));
  EXPECT_GT(after, before - 0.01);
  fixture_->server().RequestStop();
  EXPECT_TRUE(fixture_->WaitForServer(seconds(10)).has_value());
}

}  // namespace
}  // namespace anchorage
