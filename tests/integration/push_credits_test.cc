// Push credits (--push-credits, server/push_credits.h) on a live server: a
// push sent without a credit is refused and changes nothing, credits go to
// the workers in the order they asked, and real workers that ask before
// every push train to the end, async and in sync rounds, with a single
// credit among three of them.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

void Ask(RawPeer& peer, uint32_t id, uint64_t round) {
  transport::EnvelopeBuilder builder;
  EXPECT_TRUE(peer.Send(transport::MakePushAsk(builder, id, round)));
}

// The round a PushCredit for `peer` grants; nullopt when none came.
std::optional<uint64_t> GrantedRound(RawPeer& peer) {
  std::optional<transport::Message> credit =
      peer.Expect(proto::Body::PushCredit);
  if (!credit) return std::nullopt;
  return transport::ReadPushCreditRound(*credit);
}

TEST(PushCreditsTest, PushesWithoutACreditAreRefusedAndCreditsGoInTurn) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 2;
  config.server.push_credits = 1;
  config.server.heartbeat_liveness = 500;  // raw peers send no heartbeats
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  const auto dim = static_cast<uint64_t>(fixture.server().model_dim());
  const prometheus::Registry& registry = fixture.server_registry();
  const auto metric = [&](const std::string& name,
                          const std::map<std::string, std::string>& labels) {
    return MetricValue(registry, name, labels);
  };

  RawPeer first(fixture.endpoint(), "");
  RawPeer second(fixture.endpoint(), "");
  first.SendJoin(0, dim, "overlap-local-sgd");
  second.SendJoin(1, dim, "overlap-local-sgd");
  for (RawPeer* peer : {&first, &second}) {
    std::optional<transport::Message> welcome =
        peer->Expect(proto::Body::Welcome);
    ASSERT_TRUE(welcome.has_value());
    EXPECT_TRUE(transport::ReadAnchorMessage(*welcome).ask_before_push);
  }

  // Unasked, a push is refused and the anchor stays as it was.
  first.SendPush(0, std::vector<float>(dim, 0.5F));
  EXPECT_EQ(first.ExpectError(), proto::ErrorCode::BadMessage);
  EXPECT_EQ(metric("anchorage_server_rejected_messages_total",
                   {{"reason", "no_credit"}}),
            1.0);
  EXPECT_EQ(metric("anchorage_server_anchor_version", {}), 0.0);

  // One credit: the first to ask holds it, the second waits for it.
  Ask(first, 0, 0);
  EXPECT_EQ(GrantedRound(first), 0U);
  Ask(second, 1, 0);
  ASSERT_TRUE(WaitFor(
      [&] { return metric("anchorage_server_pushes_waiting", {}) == 1.0; }));
  // The first push arrives and frees the credit for the second.
  first.SendPush(0, std::vector<float>(dim, 0.5F));
  EXPECT_EQ(GrantedRound(second), 0U);
  EXPECT_EQ(metric("anchorage_server_pushes_waiting", {}), 0.0);
  second.SendPush(1, std::vector<float>(dim, 0.5F));
  ASSERT_TRUE(WaitFor([&] {
    return metric("anchorage_server_pushes_total", {{"outcome", "applied"}}) ==
           2.0;
  }));
  EXPECT_EQ(metric("anchorage_server_pushes_total", {{"outcome", "rejected"}}),
            1.0);
}

class PushCreditsRunTest : public ::testing::TestWithParam<algo::Algorithm> {};

TEST_P(PushCreditsRunTest, WorkersAskBeforeEveryPushAndTrainToTheEnd) {
  config::RunConfig config = testing::SmallRunConfig();
  config.train.workers = 3;
  config.train.algorithm = GetParam();
  config.server.push_credits = 1;
  ServiceFixture fixture(config);
  ASSERT_TRUE(fixture.StartServer());
  for (int id = 0; id < config.train.workers; ++id) {
    ASSERT_TRUE(fixture.StartWorker(id));
  }
  const std::optional<summary::RunSummary> summary =
      fixture.WaitForServer(seconds(60));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->stop_reason.find("reached"), 0U) << summary->stop_reason;
  EXPECT_GT(summary->test_accuracy, 0.75);
  // Every push was asked for: none was refused for want of a credit.
  EXPECT_EQ(summary->pushes_rejected, 0);
  EXPECT_EQ(summary->rejected_by_reason.count("no_credit"), 0U);
  EXPECT_TRUE(summary->lost_workers.empty());
  for (const auto& result : fixture.WaitForWorkers(seconds(30))) {
    EXPECT_TRUE(result.has_value() && result->ok());
  }
}

INSTANTIATE_TEST_SUITE_P(
    AsyncAndSync, PushCreditsRunTest,
    ::testing::Values(algo::Algorithm::kOverlapLocalSgd,
                      algo::Algorithm::kLocalSgd),
    [](const ::testing::TestParamInfo<algo::Algorithm>& tested) {
      return tested.param == algo::Algorithm::kLocalSgd ? "LocalSgd"
                                                        : "OverlapLocalSgd";
    });

}  // namespace
}  // namespace anchorage
