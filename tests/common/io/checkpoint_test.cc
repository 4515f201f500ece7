#include "common/io/checkpoint.h"

#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testing/temp_files.h"

namespace anchorage::io {
namespace {

using testing::ListDir;
using testing::ReadAll;
using testing::WriteAll;

Checkpoint Make(uint64_t version) {
  Checkpoint checkpoint;
  checkpoint.version = version;
  checkpoint.run_id = 0xabcdef0123ULL;
  checkpoint.restarts = 3;
  checkpoint.clock_seconds = 12.5;
  checkpoint.bytes_up = 1 << 20;
  checkpoint.bytes_down = 1 << 22;
  checkpoint.rejected_messages = 9;
  checkpoint.evaluations = {2.0, 17.0, 0.75, 0.6};
  checkpoint.fingerprint = {{"--lr", "0.05"}, {"--workers", "4"}};
  checkpoint.state.assign(1000 + version, static_cast<uint8_t>(version));
  return checkpoint;
}

// Accepts every checkpoint.
Status AcceptAll(const Checkpoint& /*checkpoint*/,
                 const std::string& /*path*/) {
  return Status::Ok();
}

std::optional<LoadedCheckpoint> LoadNewest(const std::string& dir,
                                           std::vector<std::string>* refused) {
  StatusOr<std::optional<LoadedCheckpoint>> loaded =
      LoadNewestCheckpoint(dir, AcceptAll, refused);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? *loaded : std::nullopt;
}

TEST(CheckpointTest, EncodeDecodeRoundTrips) {
  const Checkpoint written = Make(7);

  const StatusOr<Checkpoint> read =
      DecodeCheckpoint(EncodeCheckpoint(written), "c");

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->version, 7U);
  EXPECT_EQ(read->run_id, 0xabcdef0123ULL);
  EXPECT_EQ(read->restarts, 3);
  EXPECT_EQ(read->clock_seconds, 12.5);
  EXPECT_EQ(read->bytes_up, 1 << 20);
  EXPECT_EQ(read->bytes_down, 1 << 22);
  EXPECT_EQ(read->rejected_messages, 9);
  EXPECT_EQ(read->evaluations, written.evaluations);
  EXPECT_EQ(read->fingerprint, written.fingerprint);
  EXPECT_EQ(read->state, written.state);
}

TEST(CheckpointTest, EveryTruncationAndEveryFlippedByteIsRefused) {
  const std::vector<uint8_t> bytes = EncodeCheckpoint(Make(1));
  for (size_t size = 0; size < bytes.size(); size += 97) {
    const StatusOr<Checkpoint> read = DecodeCheckpoint(
        std::span<const uint8_t>(bytes).first(size), "cut.anck");
    ASSERT_FALSE(read.ok()) << size;
    EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
    EXPECT_NE(read.status().message().find("cut.anck"), std::string::npos);
  }
  for (size_t at = 0; at < bytes.size(); at += 53) {
    std::vector<uint8_t> corrupt = bytes;
    corrupt[at] ^= 0x10;
    EXPECT_FALSE(DecodeCheckpoint(corrupt, "flipped").ok()) << at;
  }
}

TEST(CheckpointTest, WritesKeepTheNewestTwo) {
  const std::string dir = testing::FreshTestDir("checkpoint") + "/run";
  for (uint64_t version = 1; version <= 4; ++version) {
    ASSERT_TRUE(WriteCheckpoint(dir, Make(version)).ok());
  }

  EXPECT_EQ(ListDir(dir),
            (std::vector<std::string>{"checkpoint-00000000000000000003.anck",
                                      "checkpoint-00000000000000000004.anck"}));
  std::vector<std::string> refused;
  const std::optional<LoadedCheckpoint> loaded = LoadNewest(dir, &refused);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->checkpoint.version, 4U);
  EXPECT_TRUE(refused.empty());
}

TEST(CheckpointTest, ACorruptNewestIsRefusedByNameAndThePreviousUsed) {
  const std::string dir = testing::FreshTestDir("checkpoint");
  ASSERT_TRUE(WriteCheckpoint(dir, Make(1)).ok());
  const StatusOr<std::string> newest = WriteCheckpoint(dir, Make(2));
  ASSERT_TRUE(newest.ok());
  std::string bytes = ReadAll(*newest);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteAll(*newest, bytes);

  std::vector<std::string> refused;
  const std::optional<LoadedCheckpoint> loaded = LoadNewest(dir, &refused);

  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->checkpoint.version, 1U);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_NE(refused[0].find(*newest), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("checksum"), std::string::npos) << refused[0];
}

TEST(CheckpointTest, ATruncatedNewestIsRefusedAndThePreviousUsed) {
  const std::string dir = testing::FreshTestDir("checkpoint");
  ASSERT_TRUE(WriteCheckpoint(dir, Make(1)).ok());
  const StatusOr<std::string> newest = WriteCheckpoint(dir, Make(2));
  ASSERT_TRUE(newest.ok());
  WriteAll(*newest, ReadAll(*newest).substr(0, 100));

  std::vector<std::string> refused;
  const std::optional<LoadedCheckpoint> loaded = LoadNewest(dir, &refused);

  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->checkpoint.version, 1U);
  ASSERT_EQ(refused.size(), 1U);
  EXPECT_NE(refused[0].find("truncated"), std::string::npos) << refused[0];
}

TEST(CheckpointTest, AcceptDecidesBetweenRefusingAFileAndStopping) {
  const std::string dir = testing::FreshTestDir("checkpoint");
  ASSERT_TRUE(WriteCheckpoint(dir, Make(1)).ok());
  ASSERT_TRUE(WriteCheckpoint(dir, Make(2)).ok());
  std::vector<std::string> refused;

  // DataLoss: this file is bad, try the previous one.
  StatusOr<std::optional<LoadedCheckpoint>> loaded = LoadNewestCheckpoint(
      dir,
      [](const Checkpoint& checkpoint, const std::string& path) {
        return checkpoint.version == 2 ? Status::DataLoss(path + ": bad state")
                                       : Status::Ok();
      },
      &refused);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->checkpoint.version, 1U);
  EXPECT_EQ(refused.size(), 1U);

  // Anything else (another run's checkpoint) stops the search.
  loaded = LoadNewestCheckpoint(
      dir,
      [](const Checkpoint& /*checkpoint*/, const std::string& /*path*/) {
        return Status::FailedPrecondition("another run");
      },
      &refused);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Status::Code::kFailedPrecondition);
}

TEST(CheckpointTest, AMissingOrEmptyDirectoryHoldsNone) {
  std::vector<std::string> refused;
  EXPECT_FALSE(
      LoadNewest(testing::FreshTestDir("checkpoint"), &refused).has_value());
  EXPECT_FALSE(
      LoadNewest(testing::FreshTestDir("checkpoint") + "/missing", &refused)
          .has_value());
  EXPECT_TRUE(refused.empty());
}

// A server killed while writing (mid-write, or between the sync and the
// rename) leaves the previous checkpoint loadable; the next write removes
// the temporary file it left.
TEST(CheckpointTest, AWriterKilledMidWriteLeavesALoadableCheckpoint) {
  const std::string dir = testing::FreshTestDir("checkpoint");
  ASSERT_TRUE(WriteCheckpoint(dir, Make(1)).ok());
  for (const bool mid_write : {true, false}) {
    EXPECT_EXIT(
        {
          WriteHooks hooks;
          const auto die = []() -> Status {
            ::raise(SIGKILL);
            return Status::Ok();
          };
          (mid_write ? hooks.mid_write : hooks.before_rename) = die;
          (void)WriteCheckpoint(dir, Make(2), hooks);
        },
        ::testing::KilledBySignal(SIGKILL), "");

    std::vector<std::string> refused;
    const std::optional<LoadedCheckpoint> loaded = LoadNewest(dir, &refused);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->checkpoint.version, 1U);
    EXPECT_TRUE(refused.empty());
  }
  EXPECT_EQ(ListDir(dir).size(), 3U);  // the checkpoint and two temporaries

  ASSERT_TRUE(WriteCheckpoint(dir, Make(3)).ok());

  EXPECT_EQ(ListDir(dir),
            (std::vector<std::string>{"checkpoint-00000000000000000001.anck",
                                      "checkpoint-00000000000000000002.anck"}));
}

TEST(CheckpointTest, FingerprintDifferenceNamesEachDifferingKey) {
  const Fingerprint saved = {
      {"--lr", "0.1"}, {"--workers", "4"}, {"--nesterov", "true"}};
  const Fingerprint current = {
      {"--lr", "0.05"}, {"--workers", "4"}, {"--codec", "qsgd"}};

  EXPECT_EQ(FingerprintDifference(saved, current),
            "--codec is unset there, qsgd here; --lr is 0.1 there, 0.05 here; "
            "--nesterov is true there, unset here");
  EXPECT_EQ(FingerprintDifference(saved, saved), "");
}

}  // namespace
}  // namespace anchorage::io
