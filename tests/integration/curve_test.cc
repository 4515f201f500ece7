// CURVE (DESIGN.md section 10) against a live run: keys from the keygen
// code, a ZAP allow-list binding key i to worker i. A plaintext peer, an
// unlisted key, and worker 1's key claiming another worker's id change
// nothing: they are never welcomed, no push of theirs is applied, and the
// real workers finish the run.
#include "common/transport/curve.h"

#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testing/raw_peer.h"
#include "tests/testing/registry_values.h"
#include "tests/testing/service_fixture.h"
#include "tests/testing/temp_files.h"

namespace anchorage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::MetricValue;
using testing::RawPeer;
using testing::ServiceFixture;

TEST(CurveKeysTest, KeygenWritesKeyFilesWithPrivateSecrets) {
  const std::string dir = testing::FreshTestDir("curve_keys");
  ASSERT_TRUE(transport::WriteCurveKeys(dir, 2).ok());
  EXPECT_EQ(testing::ListDir(dir),
            (std::vector<std::string>{"server.pub", "server.secret",
                                      "worker-0.pub", "worker-0.secret",
                                      "worker-1.pub", "worker-1.secret"}));
  struct stat secret {};
  ASSERT_EQ(::stat((dir + "/worker-1.secret").c_str(), &secret), 0);
  EXPECT_EQ(secret.st_mode & 0777, 0600U);
  const StatusOr<transport::CurveClientKeys> keys =
      transport::ReadCurveClientKeys(dir + "/worker-1.secret",
                                     dir + "/server.pub");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->public_key,
            transport::ReadCurveKey(dir + "/worker-1.pub").value());
  const StatusOr<std::map<std::string, uint32_t>> allowed =
      transport::ReadAllowedKeys(dir, 2);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->at(keys->public_key), 1U);
  // A malformed key is refused by name.
  testing::WriteAll(dir + "/worker-0.pub", "not a key\n");
  const auto refused = transport::ReadAllowedKeys(dir, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("worker-0.pub"), std::string::npos);
}

class CurveRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = testing::FreshTestDir("curve_run");
    ASSERT_TRUE(transport::WriteCurveKeys(keys_, 3).ok());
    config::RunConfig config = testing::SmallRunConfig();
    config.train.workers = 3;  // two real ones; id 2 is left to the attackers
    config.train.epochs = 4;
    config.server.heartbeat_liveness = 500;
    config.security.curve_secret_key = keys_ + "/server.secret";
    config.security.curve_allowed_keys = keys_;
    fixture_ = std::make_unique<ServiceFixture>(config);
    ASSERT_TRUE(fixture_->StartServer());
    dim_ = static_cast<uint64_t>(fixture_->server().model_dim());
    for (int id = 0; id < 2; ++id) {
      config::SecurityOptions& security = fixture_->config().security;
      security.curve_secret_key =
          keys_ + "/worker-" + std::to_string(id) + ".secret";
      security.curve_allowed_keys.clear();
      security.curve_server_key = keys_ + "/server.pub";
      ASSERT_TRUE(fixture_->StartWorker(id));
    }
  }

  double Server(const std::string& name,
                const std::map<std::string, std::string>& labels = {}) {
    return MetricValue(fixture_->server_registry(), name, labels);
  }

  transport::CurveClientKeys Keys(const std::string& secret) {
    return transport::ReadCurveClientKeys(secret, keys_ + "/server.pub")
        .value();
  }

  std::string keys_;
  std::unique_ptr<ServiceFixture> fixture_;
  uint64_t dim_ = 0;
};

TEST_F(CurveRunTest, OnlyListedKeysActingAsThemselvesTakePart) {
  // A plaintext peer: its handshake fails, the server never reads it.
  RawPeer plaintext(fixture_->endpoint(), "");
  plaintext.SendJoin(2, dim_, "overlap-local-sgd");
  plaintext.SendPush(2, std::vector<float>(dim_, 0.0F));
  // A key pair that is not on the allow-list: refused by the ZAP handler.
  const std::string stranger = testing::FreshTestDir("curve_stranger");
  ASSERT_TRUE(transport::WriteCurveKeys(stranger, 1).ok());
  const transport::CurveClientKeys unlisted =
      Keys(stranger + "/worker-0.secret");
  RawPeer unlisted_peer(fixture_->endpoint(), "", &unlisted);
  unlisted_peer.SendJoin(2, dim_, "overlap-local-sgd");
  // Worker 1's real key, claiming id 2: refused by name, counted.
  const transport::CurveClientKeys worker1 = Keys(keys_ + "/worker-1.secret");
  RawPeer impostor(fixture_->endpoint(), "", &worker1);
  impostor.SendJoin(2, dim_, "overlap-local-sgd");
  EXPECT_EQ(impostor.ExpectError(), proto::ErrorCode::UnknownWorker);
  impostor.SendPush(2, std::vector<float>(dim_, 0.0F));
  EXPECT_EQ(impostor.ExpectError(), proto::ErrorCode::UnknownWorker);

  EXPECT_TRUE(plaintext.HearsNothingFor(milliseconds(500)));
  EXPECT_TRUE(unlisted_peer.HearsNothingFor(milliseconds(100)));
  EXPECT_EQ(Server("anchorage_server_rejected_messages_total",
                   {{"reason", "identity"}}),
            2.0);

  const std::optional<summary::RunSummary> summary =
      fixture_->WaitForServer(seconds(120));
  ASSERT_TRUE(summary.has_value());
  EXPECT_NE(summary->stop_reason.find("epochs"), std::string::npos);
  // Nobody but the two real workers was ever welcomed, and every push the
  // attackers sent was refused or never read.
  EXPECT_EQ(summary->rejected_by_reason.at("identity"), 2);
  // The honest workers' pushes all stayed within the bounds.
  EXPECT_EQ(summary->rejected_by_reason.count("update_norm"), 0U);
  EXPECT_EQ(summary->pushes_rejected, 0);
  EXPECT_GT(summary->test_accuracy, 0.5);
  for (const auto& result : fixture_->WaitForWorkers(seconds(30))) {
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok()) << result->status().ToString();
  }
}

}  // namespace
}  // namespace anchorage
