#include "common/data/dataset_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/data/dataset.h"
#include "tests/testing/idx_files.h"
#include "tests/testing/temp_files.h"

namespace anchorage::data {
namespace {

using testing::ExpectSameSplit;

// A small Fashion-MNIST in a fresh folder, and a cache folder (not yet
// made) beside it.
struct Files {
  std::string data_dir;
  std::string cache_dir;
};

Files MakeFiles() {
  const std::string dir = testing::FreshTestDir("cache");
  Files files{.data_dir = dir + "/data", .cache_dir = dir + "/cache"};
  std::filesystem::create_directories(files.data_dir);
  testing::WriteSmallFashionMnist(files.data_dir, 40, 12);
  return files;
}

// Writes the cache of `kind` for `files` and returns where it is.
CacheSource WriteCache(const Files& files,
                       DatasetKind kind = DatasetKind::kFashionMnist) {
  CacheSource source =
      DescribeCacheSource(kind, files.data_dir, files.cache_dir).value();
  const TrainTest decoded = LoadDataset(kind, files.data_dir, 0).value();
  const Status status = WriteDatasetCache(source, decoded);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return source;
}

// The offset in `bytes` of the pixel bytes of `row` (a unique pattern).
size_t OffsetOf(const std::string& bytes, const Dataset& split, int64_t row) {
  std::string pattern;
  for (const float feature : split.features.row(row)) {
    pattern.push_back(static_cast<char>(std::lround(feature * 255.0F)));
  }
  const size_t at = bytes.find(pattern);
  EXPECT_NE(at, std::string::npos) << "row " << row << " not in the file";
  EXPECT_EQ(bytes.find(pattern, at + 1), std::string::npos)
      << "row " << row << " is not unique";
  return at;
}

// `bytes` with one bit of byte `at` flipped.
std::string Flip(std::string bytes, size_t at) {
  EXPECT_LT(at, bytes.size());
  if (at < bytes.size()) {
    bytes.replace(at, 1, 1, static_cast<char>(bytes[at] ^ 0x04));
  }
  return bytes;
}

void ExpectRefusedNaming(const Status& status, Status::Code code,
                         const std::string& path) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_NE(status.message().find(path), std::string::npos)
      << status.ToString();
}

TEST(DatasetCacheTest, RoundTripIsBitIdenticalToDecoding) {
  for (const DatasetKind kind :
       {DatasetKind::kFashionMnist, DatasetKind::kFashionMnistBinary}) {
    SCOPED_TRACE(DatasetName(kind));
    const Files files = MakeFiles();
    const TrainTest decoded = LoadDataset(kind, files.data_dir, 0).value();
    const CacheSource source = WriteCache(files, kind);

    const StatusOr<DatasetCache> cache = DatasetCache::Open(source);

    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    EXPECT_EQ(cache->train_size(), 40);
    EXPECT_EQ(cache->test_size(), 12);
    EXPECT_EQ(cache->dim(), 16);
    const StatusOr<TrainTest> loaded = cache->LoadAll();
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ExpectSameSplit(loaded->train, decoded.train);
    ExpectSameSplit(loaded->test, decoded.test);
    const Standardization stored = cache->standardization();
    const Standardization computed =
        ComputeStandardization(decoded.train.features);
    EXPECT_EQ(stored.mean, computed.mean);
    EXPECT_EQ(stored.scale, computed.scale);
  }
}

TEST(DatasetCacheTest, TrainRowsAreThoseRowsOfTheDecodedData) {
  const Files files = MakeFiles();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnistBinary, files.data_dir, 0).value();
  const CacheSource source =
      WriteCache(files, DatasetKind::kFashionMnistBinary);
  const DatasetCache cache = DatasetCache::Open(source).value();
  // Out of order, repeated, and runs of consecutive rows read at once.
  const std::vector<int64_t> rows = {7, 0, 39, 3, 3, 4, 5, 6, 20, 21};

  const StatusOr<Dataset> got = cache.TrainRows(rows);

  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameSplit(*got, SelectRows(decoded.train, rows));
  const Dataset labels = cache.TrainLabels();
  EXPECT_EQ(labels.size(), 0);
  EXPECT_EQ(labels.labels, decoded.train.labels);
  EXPECT_EQ(labels.source_labels, decoded.train.source_labels);
  EXPECT_EQ(labels.num_classes, 2);
  EXPECT_EQ(labels.source_classes, 10);
  EXPECT_EQ(cache.TrainRows(std::vector<int64_t>{40}).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(DatasetCacheTest, TheFileHoldsAByteAFeature) {
  const Files files = MakeFiles();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();
  const CacheSource source = WriteCache(files);
  const std::string bytes = testing::ReadAll(source.path);

  // Each row's bytes are in the file, and the features take less than the
  // float32 features would.
  for (int64_t row = 0; row < decoded.train.size(); ++row) {
    OffsetOf(bytes, decoded.train, row);
  }
  const auto features = static_cast<size_t>(decoded.train.features.size() +
                                            decoded.test.features.size());
  EXPECT_LT(bytes.size(), features * sizeof(float));
}

TEST(DatasetCacheTest, FeaturesThatAreNotPixelsAreNotCached) {
  const Files files = MakeFiles();
  TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();
  const CacheSource source =
      DescribeCacheSource(DatasetKind::kFashionMnist, files.data_dir,
                          files.cache_dir)
          .value();
  decoded.test.features(3, 5) = 0.5F / 255.0F;

  const Status status = WriteDatasetCache(source, decoded);

  ExpectRefusedNaming(status, Status::Code::kInvalidArgument, source.path);
  EXPECT_FALSE(std::filesystem::exists(source.path));
}

TEST(DatasetCacheTest, NoCacheFileIsNotFound) {
  const Files files = MakeFiles();
  const CacheSource source =
      DescribeCacheSource(DatasetKind::kFashionMnist, files.data_dir,
                          files.cache_dir)
          .value();

  EXPECT_EQ(DatasetCache::Open(source).status().code(),
            Status::Code::kNotFound);
}

// Every way a file can be damaged is refused with the path in the
// message; a damaged feature row when it is read.
TEST(DatasetCacheTest, DamagedFilesAreRefusedNamingThem) {
  const Files files = MakeFiles();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();
  const CacheSource source = WriteCache(files);
  const std::string good = testing::ReadAll(source.path);
  ASSERT_FALSE(good.empty());
  struct Damage {
    const char* name;
    std::function<std::string(const std::string&)> apply;
  };
  const std::vector<Damage> at_open = {
      {"truncated",
       [](const std::string& b) { return b.substr(0, b.size() - 100); }},
      {"truncated to the header",
       [](const std::string& b) { return b.substr(0, 30); }},
      {"empty", [](const std::string&) { return std::string(); }},
      {"longer",
       [](const std::string& b) { return b + std::string(64, '\0'); }},
      {"header byte", [](const std::string& b) { return Flip(b, 30); }},
      {"magic", [](const std::string& b) { return Flip(b, 0); }},
      {"a checksum or label",
       [](const std::string& b) { return Flip(b, b.size() - 5); }},
      {"not a cache",
       [](const std::string&) { return std::string(4096, 'a'); }},
  };
  for (const Damage& damage : at_open) {
    SCOPED_TRACE(damage.name);
    testing::WriteAll(source.path, damage.apply(good));

    ExpectRefusedNaming(DatasetCache::Open(source).status(),
                        Status::Code::kDataLoss, source.path);
  }

  testing::WriteAll(source.path,
                    Flip(good, OffsetOf(good, decoded.train, 17) + 9));
  const StatusOr<DatasetCache> cache = DatasetCache::Open(source);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_TRUE(cache->TrainRows(std::vector<int64_t>{16, 18}).ok());
  const Status row = cache->TrainRows(std::vector<int64_t>{16, 17}).status();
  ExpectRefusedNaming(row, Status::Code::kDataLoss, source.path);
  EXPECT_NE(row.message().find("row 17"), std::string::npos) << row.ToString();
  ExpectRefusedNaming(cache->LoadAll().status(), Status::Code::kDataLoss,
                      source.path);
}

TEST(DatasetCacheTest, ACacheOfOtherSourceFilesIsRefusedNamingIt) {
  const Files files = MakeFiles();
  const CacheSource old_source = WriteCache(files);
  // Same sizes, other pixels, a later modification time.
  testing::WriteSmallFashionMnist(files.data_dir, 40, 12, 4, /*salt=*/5);
  const std::string images = files.data_dir + "/train-images-idx3-ubyte";
  const auto later =
      std::filesystem::last_write_time(images) + std::chrono::seconds(3);
  std::filesystem::last_write_time(images, later);
  const CacheSource new_source =
      DescribeCacheSource(DatasetKind::kFashionMnist, files.data_dir,
                          files.cache_dir)
          .value();
  EXPECT_NE(new_source.path, old_source.path);
  // The old file where the new one belongs (a copy, or a hash collision).
  std::filesystem::copy_file(old_source.path, new_source.path);

  const Status status = DatasetCache::Open(new_source).status();

  ExpectRefusedNaming(status, Status::Code::kFailedPrecondition,
                      new_source.path);
  EXPECT_NE(status.message().find("train-images-idx3-ubyte"), std::string::npos)
      << status.ToString();
  // Another dataset from the same files has its own file.
  const CacheSource binary =
      DescribeCacheSource(DatasetKind::kFashionMnistBinary, files.data_dir,
                          files.cache_dir)
          .value();
  EXPECT_NE(binary.path, new_source.path);
  EXPECT_NE(binary.key, new_source.key);
}

TEST(DatasetCacheTest, ConcurrentWritersLeaveOneValidFile) {
  const Files files = MakeFiles();
  const CacheSource source =
      DescribeCacheSource(DatasetKind::kFashionMnist, files.data_dir,
                          files.cache_dir)
          .value();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();
  std::vector<Status> results(8);
  std::vector<std::thread> writers;
  writers.reserve(results.size());
  for (Status& result : results) {
    writers.emplace_back([&source, &decoded, &result] {
      result = WriteDatasetCache(source, decoded);
    });
  }
  for (std::thread& writer : writers) {
    writer.join();
  }

  for (const Status& result : results) {
    EXPECT_TRUE(result.ok()) << result.ToString();
  }
  EXPECT_EQ(testing::ListDir(files.cache_dir),
            std::vector<std::string>{
                std::filesystem::path(source.path).filename().string()});
  const StatusOr<DatasetCache> cache = DatasetCache::Open(source);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  const StatusOr<TrainTest> loaded = cache->LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameSplit(loaded->train, decoded.train);
  ExpectSameSplit(loaded->test, decoded.test);
}

TEST(DatasetCacheTest, AMappedCacheOutlivesItsReplacement) {
  const Files files = MakeFiles();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();
  const CacheSource source = WriteCache(files);
  const DatasetCache cache = DatasetCache::Open(source).value();

  ASSERT_TRUE(WriteDatasetCache(source, decoded).ok());
  std::filesystem::remove(source.path);

  const StatusOr<TrainTest> loaded = cache.LoadAll();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameSplit(loaded->train, decoded.train);
}

// The first bytes of a cache file of `format`: the magic "ANCD" and the
// format, little-endian, then a little more.
std::string CacheFileOfFormat(uint32_t format) {
  std::string bytes = "ANCD";
  for (int shift = 0; shift < 32; shift += 8) {
    bytes.push_back(static_cast<char>((format >> shift) & 0xff));
  }
  return bytes + std::string(56, '\0');
}

TEST(DatasetCacheTest, WritingACacheRemovesOnlyOlderFormats) {
  const Files files = MakeFiles();
  std::filesystem::create_directories(files.cache_dir);
  const auto write = [&](const std::string& name, const std::string& bytes) {
    testing::WriteAll(files.cache_dir + "/" + name, bytes);
  };
  write("fashion-mnist-0000000000000001.ancdata", CacheFileOfFormat(1));
  write("fashion-mnist-0000000000000003.ancdata", CacheFileOfFormat(3));
  write("notes.txt", CacheFileOfFormat(1));
  write("short.ancdata", "ANC");
  write("text.ancdata", "not a cache file at all");

  const CacheSource source = WriteCache(files);

  std::vector<std::string> kept = {
      std::filesystem::path(source.path).filename().string(),
      "fashion-mnist-0000000000000003.ancdata", "notes.txt", "short.ancdata",
      "text.ancdata"};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(testing::ListDir(files.cache_dir), kept);
  EXPECT_TRUE(DatasetCache::Open(source).ok());
}

TEST(DatasetCacheTest, OnlyDatasetsReadFromFilesHaveACache) {
  EXPECT_TRUE(IsCacheable(DatasetKind::kFashionMnist));
  EXPECT_TRUE(IsCacheable(DatasetKind::kFashionMnistBinary));
  EXPECT_FALSE(IsCacheable(DatasetKind::kSyntheticGaussian));
  EXPECT_FALSE(IsCacheable(DatasetKind::kSyntheticLogistic));
  EXPECT_EQ(DescribeCacheSource(DatasetKind::kSyntheticGaussian, "", "/tmp")
                .status()
                .code(),
            Status::Code::kInvalidArgument);
}

TEST(DatasetCacheTest, AMissingSourceFileIsNotFoundNamingIt) {
  const Files files = MakeFiles();
  const std::string labels = files.data_dir + "/t10k-labels-idx1-ubyte";
  std::filesystem::remove(labels);

  const Status status = DescribeCacheSource(DatasetKind::kFashionMnist,
                                            files.data_dir, files.cache_dir)
                            .status();

  ExpectRefusedNaming(status, Status::Code::kNotFound, labels);
}

TEST(DatasetCacheTest, AnUnwritableCacheFolderIsUnavailable) {
  const Files files = MakeFiles();
  // A file where the cache folder should be.
  testing::WriteAll(files.cache_dir, "not a folder");
  const CacheSource source =
      DescribeCacheSource(DatasetKind::kFashionMnist, files.data_dir,
                          files.cache_dir)
          .value();
  const TrainTest decoded =
      LoadDataset(DatasetKind::kFashionMnist, files.data_dir, 0).value();

  const Status status = WriteDatasetCache(source, decoded);

  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find(files.cache_dir), std::string::npos)
      << status.ToString();
}

}  // namespace
}  // namespace anchorage::data
