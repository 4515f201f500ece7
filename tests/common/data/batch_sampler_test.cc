#include "common/data/batch_sampler.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "common/data/dataset.h"
#include "common/tensor/tensor.h"

namespace anchorage::data {
namespace {

// Row i is (i, -i) with label i % 10, so a batch row reveals its index.
Dataset IndexedDataset(int64_t size) {
  Dataset dataset;
  dataset.num_classes = 10;
  dataset.features.resize(size, 2);
  dataset.labels.resize(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) {
    dataset.features(i, 0) = static_cast<float>(i);
    dataset.features(i, 1) = -static_cast<float>(i);
    dataset.labels[static_cast<size_t>(i)] = static_cast<int32_t>(i % 10);
  }
  return dataset;
}

std::vector<int64_t> EvenIndices(int64_t count) {
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < count; ++i) {
    indices.push_back(2 * i);
  }
  return indices;
}

// Draws one batch and returns the dataset rows it holds, checking that
// features and labels agree with those rows.
std::vector<int64_t> DrawRows(BatchSampler& sampler, RowMatrix* x,
                              std::vector<int32_t>* labels) {
  sampler.Next(x, labels);
  EXPECT_EQ(x->rows(), sampler.batch_size());
  EXPECT_EQ(x->cols(), 2);
  EXPECT_EQ(labels->size(), static_cast<size_t>(sampler.batch_size()));
  std::vector<int64_t> rows;
  for (Eigen::Index i = 0; i < x->rows(); ++i) {
    const auto row = static_cast<int64_t>((*x)(i, 0));
    EXPECT_EQ((*x)(i, 1), -(*x)(i, 0));
    EXPECT_EQ((*labels)[static_cast<size_t>(i)], row % 10);
    rows.push_back(row);
  }
  return rows;
}

TEST(BatchSamplerTest, OneEpochVisitsEveryShardIndexOnce) {
  const Dataset dataset = IndexedDataset(100);
  const std::vector<int64_t> shard = EvenIndices(50);
  BatchSampler sampler(&dataset, shard, 10, 1);
  EXPECT_EQ(sampler.shard_size(), 50);
  EXPECT_EQ(sampler.batch_size(), 10);
  RowMatrix x;
  std::vector<int32_t> labels;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen;
    for (int batch = 0; batch < 5; ++batch) {
      EXPECT_EQ(sampler.epoch(), epoch);
      const std::vector<int64_t> rows = DrawRows(sampler, &x, &labels);
      seen.insert(seen.end(), rows.begin(), rows.end());
    }
    EXPECT_EQ(sampler.epoch(), epoch + 1);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, shard) << "epoch " << epoch;
  }
}

TEST(BatchSamplerTest, ReshufflesEveryEpoch) {
  const Dataset dataset = IndexedDataset(64);
  BatchSampler sampler(&dataset, EvenIndices(32), 32, 2);
  RowMatrix x;
  std::vector<int32_t> labels;
  const std::vector<int64_t> first = DrawRows(sampler, &x, &labels);
  const std::vector<int64_t> second = DrawRows(sampler, &x, &labels);
  EXPECT_NE(first, second);
  EXPECT_FALSE(std::is_sorted(first.begin(), first.end()));
  EXPECT_EQ(sampler.epoch(), 2);
}

TEST(BatchSamplerTest, DropsEpochRemainderShorterThanBatch) {
  const Dataset dataset = IndexedDataset(25);
  std::vector<int64_t> shard(25);
  for (int64_t i = 0; i < 25; ++i) {
    shard[static_cast<size_t>(i)] = i;
  }
  BatchSampler sampler(&dataset, shard, 10, 3);
  RowMatrix x;
  std::vector<int32_t> labels;
  for (int epoch = 0; epoch < 4; ++epoch) {
    std::set<int64_t> seen;
    for (int batch = 0; batch < 2; ++batch) {
      EXPECT_EQ(sampler.epoch(), epoch);
      for (const int64_t row : DrawRows(sampler, &x, &labels)) {
        EXPECT_TRUE(seen.insert(row).second)
            << "row " << row << " twice in epoch " << epoch;
      }
    }
    EXPECT_EQ(seen.size(), 20U);
    EXPECT_EQ(sampler.epoch(), epoch + 1);
  }
}

TEST(BatchSamplerTest, ShardSmallerThanBatchGivesWholeShard) {
  const Dataset dataset = IndexedDataset(10);
  const std::vector<int64_t> shard = {1, 4, 7};
  BatchSampler sampler(&dataset, shard, 32, 4);
  EXPECT_EQ(sampler.batch_size(), 3);
  EXPECT_EQ(sampler.shard_size(), 3);
  RowMatrix x;
  std::vector<int32_t> labels;
  for (int i = 0; i < 4; ++i) {
    std::vector<int64_t> rows = DrawRows(sampler, &x, &labels);
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(rows, shard);
    EXPECT_EQ(sampler.epoch(), i + 1);
  }
}

TEST(BatchSamplerTest, DeterministicForSeedAndDiffersAcrossSeeds) {
  const Dataset dataset = IndexedDataset(200);
  const std::vector<int64_t> shard = EvenIndices(100);
  BatchSampler a(&dataset, shard, 16, 7);
  BatchSampler b(&dataset, shard, 16, 7);
  BatchSampler c(&dataset, shard, 16, 8);
  RowMatrix x;
  std::vector<int32_t> labels;
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const std::vector<int64_t> rows_a = DrawRows(a, &x, &labels);
    const std::vector<int64_t> rows_b = DrawRows(b, &x, &labels);
    const std::vector<int64_t> rows_c = DrawRows(c, &x, &labels);
    EXPECT_EQ(rows_a, rows_b) << "batch " << i;
    differs = differs || rows_a != rows_c;
  }
  EXPECT_TRUE(differs);
}

TEST(BatchSamplerTest, ReusesOutputStorage) {
  const Dataset dataset = IndexedDataset(100);
  BatchSampler sampler(&dataset, EvenIndices(50), 8, 5);
  RowMatrix x;
  std::vector<int32_t> labels;
  sampler.Next(&x, &labels);
  const float* x_data = x.data();
  const int32_t* labels_data = labels.data();
  for (int i = 0; i < 20; ++i) {
    sampler.Next(&x, &labels);
    EXPECT_EQ(x.data(), x_data);
    EXPECT_EQ(labels.data(), labels_data);
  }
}

TEST(BatchSamplerDeathTest, RejectsEmptyShard) {
  const Dataset dataset = IndexedDataset(10);
  EXPECT_DEATH(BatchSampler(&dataset, {}, 4, 0), "non-empty shard");
}

TEST(BatchSamplerDeathTest, RejectsIndexOutsideDataset) {
  const Dataset dataset = IndexedDataset(10);
  EXPECT_DEATH(BatchSampler(&dataset, {3, 10}, 4, 0), "outside the dataset");
}

}  // namespace
}  // namespace anchorage::data
