#include "common/config/train_data.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/data/dataset_cache.h"
#include "common/data/partition.h"
#include "tests/testing/idx_files.h"
#include "tests/testing/temp_files.h"

namespace anchorage::config {
namespace {

using testing::ExpectSameSplit;

constexpr const char* kInstalledFashionMnist =
    "/usr/share/datasets/fashion-mnist";

// A small Fashion-MNIST in a fresh folder; the cache goes beside it.
TrainOptions SmallRun(const std::string& dir) {
  TrainOptions train;
  train.data_dir = dir + "/data";
  std::filesystem::create_directories(train.data_dir);
  testing::WriteSmallFashionMnist(train.data_dir, 60, 12);
  train.workers = 4;
  train.seed = 7;
  return train;
}

std::string CachePath(const TrainOptions& train) {
  return data::DescribeCacheSource(train.dataset, train.data_dir,
                                   train.data_cache)
      .value()
      .path;
}

// The shard the way a worker made it before the cache: the whole
// training split, partitioned.
data::Dataset ReferenceShard(const TrainOptions& train, int worker) {
  TrainOptions without_cache = train;
  without_cache.data_cache.clear();
  const data::TrainTest all = LoadTrainingData(without_cache).value();
  const data::Partition partition =
      data::MakePartition(train.partition, all.train, train.workers, train.seed)
          .value();
  return data::SelectRows(all.train, partition[static_cast<size_t>(worker)]);
}

TEST(TrainDataTest, LoadingThroughTheCacheGivesTheSameDataBitForBit) {
  for (const bool standardize : {false, true}) {
    SCOPED_TRACE(standardize ? "standardised" : "raw");
    const std::string dir = testing::FreshTestDir("train_data");
    TrainOptions train = SmallRun(dir);
    train.standardize = standardize;
    const data::TrainTest decoded = LoadTrainingData(train).value();
    train.data_cache = dir + "/cache";

    const StatusOr<data::TrainTest> writing = LoadTrainingData(train);
    ASSERT_TRUE(std::filesystem::exists(CachePath(train)));
    const StatusOr<data::TrainTest> mapped = LoadTrainingData(train);

    for (const StatusOr<data::TrainTest>* loaded : {&writing, &mapped}) {
      ASSERT_TRUE(loaded->ok()) << loaded->status().ToString();
      ExpectSameSplit((*loaded)->train, decoded.train);
      ExpectSameSplit((*loaded)->test, decoded.test);
    }
  }
}

TEST(TrainDataTest, AWorkerShardFromTheCacheIsTheShardOfTheWholeData) {
  struct Case {
    data::DatasetKind dataset;
    const char* partition;
    int workers;
  };
  const std::vector<Case> cases = {
      {data::DatasetKind::kFashionMnist, "iid", 4},
      {data::DatasetKind::kFashionMnist, "dirichlet:0.5", 4},
      {data::DatasetKind::kFashionMnist, "mix:0.25", 3},
      {data::DatasetKind::kFashionMnistBinary, "pairs:0.5", 5},
  };
  for (const Case& c : cases) {
    for (const bool standardize : {false, true}) {
      SCOPED_TRACE(std::string(c.partition) +
                   (standardize ? ", standardised" : ""));
      const std::string dir = testing::FreshTestDir("train_data");
      TrainOptions train = SmallRun(dir);
      train.dataset = c.dataset;
      train.partition = c.partition;
      train.workers = c.workers;
      train.standardize = standardize;
      train.data_cache = dir + "/cache";
      for (int worker = 0; worker < c.workers; ++worker) {
        const data::Dataset want = ReferenceShard(train, worker);
        TrainOptions without_cache = train;
        without_cache.data_cache.clear();

        // The first worker writes the cache, the others map it.
        const StatusOr<WorkerData> cached = LoadWorkerShard(train, worker);
        const StatusOr<WorkerData> decoded =
            LoadWorkerShard(without_cache, worker);

        for (const StatusOr<WorkerData>* got : {&cached, &decoded}) {
          ASSERT_TRUE(got->ok()) << got->status().ToString();
          ExpectSameSplit((*got)->shard, want);
          EXPECT_EQ((*got)->train_size, 60);
        }
      }
      EXPECT_TRUE(std::filesystem::exists(CachePath(train)));
    }
  }
}

TEST(TrainDataTest, ADamagedCacheIsRefusedAndTheSourceFilesUsed) {
  const std::string dir = testing::FreshTestDir("train_data");
  TrainOptions train = SmallRun(dir);
  // One worker holds every row, the damaged one included.
  train.workers = 1;
  const data::TrainTest decoded = LoadTrainingData(train).value();
  const data::Dataset shard = ReferenceShard(train, 0);
  train.data_cache = dir + "/cache";
  ASSERT_TRUE(LoadTrainingData(train).ok());
  const std::string path = CachePath(train);
  const std::string good = testing::ReadAll(path);
  // One bit of a feature row, which only reading the row finds, and a
  // truncated file, which opening finds.
  std::string flipped = good;
  flipped[good.size() / 3] ^= 0x01;
  for (const std::string& bad : {flipped, good.substr(0, good.size() / 2)}) {
    testing::WriteAll(path, bad);
    ::testing::internal::CaptureStderr();
    const StatusOr<data::TrainTest> all = LoadTrainingData(train);
    const std::string log = ::testing::internal::GetCapturedStderr();

    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ExpectSameSplit(all->train, decoded.train);
    ExpectSameSplit(all->test, decoded.test);
    EXPECT_NE(log.find("refusing the dataset cache " + path), std::string::npos)
        << log;
    // Written again whole.
    EXPECT_EQ(testing::ReadAll(path), good);

    testing::WriteAll(path, bad);
    ::testing::internal::CaptureStderr();
    const StatusOr<WorkerData> worker = LoadWorkerShard(train, 0);
    const std::string worker_log = ::testing::internal::GetCapturedStderr();

    ASSERT_TRUE(worker.ok()) << worker.status().ToString();
    ExpectSameSplit(worker->shard, shard);
    EXPECT_NE(worker_log.find(path), std::string::npos) << worker_log;
    EXPECT_EQ(testing::ReadAll(path), good);
  }
}

TEST(TrainDataTest, AnUnwritableCacheIsAWarningNotAnError) {
  const std::string dir = testing::FreshTestDir("train_data");
  TrainOptions train = SmallRun(dir);
  const data::TrainTest decoded = LoadTrainingData(train).value();
  train.data_cache = dir + "/cache";
  testing::WriteAll(train.data_cache, "a file, not a folder");

  ::testing::internal::CaptureStderr();
  const StatusOr<data::TrainTest> loaded = LoadTrainingData(train);
  const std::string log = ::testing::internal::GetCapturedStderr();

  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameSplit(loaded->train, decoded.train);
  EXPECT_NE(log.find("cannot write the dataset cache"), std::string::npos)
      << log;
}

TEST(TrainDataTest, AWorkerIdOutsideTheRunIsInvalid) {
  const std::string dir = testing::FreshTestDir("train_data");
  const TrainOptions train = SmallRun(dir);

  EXPECT_EQ(LoadWorkerShard(train, 4).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(LoadWorkerShard(train, -1).status().code(),
            Status::Code::kInvalidArgument);
}

// The demo's setting on the real data: 16 workers, standardised features.
TEST(TrainDataTest, InstalledFashionMnistShardsMatchThroughTheCache) {
  ASSERT_TRUE(std::filesystem::is_directory(kInstalledFashionMnist))
      << kInstalledFashionMnist << " is missing; the setup installs it";
  const std::string dir = testing::FreshTestDir("train_data");
  TrainOptions train;
  train.workers = 16;
  train.standardize = true;
  train.partition = "dirichlet:0.5";
  TrainOptions cached = train;
  cached.data_cache = dir + "/cache";
  ASSERT_TRUE(LoadWorkerShard(cached, 0).ok());  // writes the cache

  for (const int worker : {3, 15}) {
    const StatusOr<WorkerData> from_cache = LoadWorkerShard(cached, worker);
    const StatusOr<WorkerData> from_source = LoadWorkerShard(train, worker);

    ASSERT_TRUE(from_cache.ok()) << from_cache.status().ToString();
    ASSERT_TRUE(from_source.ok()) << from_source.status().ToString();
    EXPECT_EQ(from_cache->train_size, 60000);
    EXPECT_GT(from_cache->shard.size(), 0);
    EXPECT_LT(from_cache->shard.size(), 60000);
    ExpectSameSplit(from_cache->shard, from_source->shard);
  }
  std::filesystem::remove_all(dir);  // 220 MB
}

}  // namespace
}  // namespace anchorage::config
