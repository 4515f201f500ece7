// The server's memory bound (memory_bound.h) and the cgroup limit it is
// checked against.
#include "server/memory_bound.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/testing/temp_files.h"

namespace anchorage::server {
namespace {

config::RunConfig RunOf(int workers, algo::Algorithm algorithm) {
  config::RunConfig config;
  config.train.workers = workers;
  config.train.algorithm = algorithm;
  return config;
}

TEST(MemoryBoundTest, AsyncRunsKeepASnapshotPerSixteenthOfARound) {
  const int64_t dim = 1000000;
  config::RunConfig config = RunOf(256, algo::Algorithm::kOverlapLocalSgd);
  const MemoryBound dense = ServerMemoryBound(config, dim, 4 * dim, false, 0);
  // slots 256 + scratch 7 + published 1 + decode and evaluation 2 + anchors
  // in flight: the 16 snapshots of a round of pushes and 2.
  EXPECT_EQ(dense.model_copies, 256 + 7 + 1 + 2 + 18);
  EXPECT_EQ(dense.model_bytes, dense.model_copies * dim * 4);
  EXPECT_EQ(dense.message_bytes, int64_t{1024} * dim);
  // Relative pushes may name either of the last two bases sent: a
  // straggler can pin two old snapshots, so without a staleness bound every
  // worker counts two.
  const MemoryBound fp16 = ServerMemoryBound(config, dim, 2 * dim, true, 0);
  EXPECT_EQ(fp16.model_copies - dense.model_copies, 2 * 256);
  // With one, only the snapshots of its window are kept.
  config.server.max_staleness = 1024;
  EXPECT_EQ(ServerMemoryBound(config, dim, 2 * dim, true, 0).model_copies -
                dense.model_copies,
            1024 / 16 + 2);
  // Anchor momentum keeps its last step's anchor, offset and proposal.
  config.train.beta = 0.7;
  EXPECT_EQ(ServerMemoryBound(config, dim, 4 * dim, false, 0).model_copies,
            dense.model_copies + 3);
  config.train.beta = 0;
  config.server.publish_every = 1;
  EXPECT_EQ(ServerMemoryBound(config, dim, 4 * dim, false, 0).model_copies,
            256 + 7 + 1 + 2 + 257);
}

TEST(MemoryBoundTest, SyncRoundsShareTheirBasesAndCheckpointsCopyTheState) {
  config::RunConfig config = RunOf(8, algo::Algorithm::kLocalSgd);
  const MemoryBound plain = ServerMemoryBound(config, 10, 40, true, 100);
  EXPECT_EQ(plain.model_copies, 8 + 3 + 7 + 1 + 2 + 2);
  EXPECT_EQ(plain.total(), plain.model_copies * 40 + int64_t{8 * 40 + 100});
  config.server.checkpoint_dir = "/tmp/x";
  EXPECT_EQ(ServerMemoryBound(config, 10, 40, true, 100).model_copies,
            plain.model_copies + 8 + 3 + 3);
}

TEST(MemoryBoundTest, PushCreditsBoundThePushesInFlight) {
  const int64_t dim = 1000000;
  config::RunConfig config = RunOf(256, algo::Algorithm::kOverlapLocalSgd);
  const MemoryBound unlimited =
      ServerMemoryBound(config, dim, 4 * dim, false, 0);
  config.server.push_credits = 16;
  const MemoryBound limited = ServerMemoryBound(config, dim, 4 * dim, false, 0);
  EXPECT_EQ(limited.model_copies, unlimited.model_copies);
  EXPECT_EQ(limited.message_bytes, dim * 4 * 16);
  // More credits than workers change nothing.
  config.server.push_credits = 1000;
  EXPECT_EQ(ServerMemoryBound(config, dim, 4 * dim, false, 0).message_bytes,
            unlimited.message_bytes);

  // Auto: no limit when the bound fits; else the most pushes that fit.
  const int64_t rest = unlimited.total() - unlimited.message_bytes;
  EXPECT_EQ(AutoPushCredits(unlimited, 4 * dim, 256, unlimited.total()), 0);
  EXPECT_EQ(AutoPushCredits(unlimited, 4 * dim, 256, rest + 40 * dim + 3), 10);
  // Not even one push fits: one credit, and the bound still exceeds the
  // limit, which the server refuses.
  EXPECT_EQ(AutoPushCredits(unlimited, 4 * dim, 256, rest), 1);
}

TEST(CgroupMemoryLimitTest, ReadsVersionTwoThenVersionOne) {
  const std::string root = testing::FreshTestDir("cgroup");
  EXPECT_EQ(CgroupMemoryLimit(root), std::nullopt);
  std::filesystem::create_directories(root + "/memory");
  testing::WriteAll(root + "/memory/memory.limit_in_bytes",
                    "9223372036854771712\n");
  EXPECT_EQ(CgroupMemoryLimit(root), std::nullopt);  // v1's "no limit"
  testing::WriteAll(root + "/memory/memory.limit_in_bytes", "536870912\n");
  EXPECT_EQ(CgroupMemoryLimit(root), 536870912);
  testing::WriteAll(root + "/memory.max", "max\n");
  EXPECT_EQ(CgroupMemoryLimit(root), std::nullopt);
  testing::WriteAll(root + "/memory.max", "2147483648\n");
  EXPECT_EQ(CgroupMemoryLimit(root), 2147483648);
}

}  // namespace
}  // namespace anchorage::server
