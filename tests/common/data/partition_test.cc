#include "common/data/partition.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::data {
namespace {

// Asserts that the shards are sorted and together hold 0..n-1 exactly once.
void ExpectCoversEachIndexOnce(const Partition& partition, int64_t n) {
  std::vector<int> seen(static_cast<size_t>(n), 0);
  for (size_t w = 0; w < partition.size(); ++w) {
    const std::vector<int64_t>& shard = partition[w];
    EXPECT_TRUE(std::is_sorted(shard.begin(), shard.end())) << "worker " << w;
    for (const int64_t index : shard) {
      ASSERT_GE(index, 0);
      ASSERT_LT(index, n);
      ++seen[static_cast<size_t>(index)];
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(seen[static_cast<size_t>(i)], 1) << "index " << i;
  }
}

// Labels 0..num_classes-1 repeated, num_classes * per_class examples.
std::vector<int32_t> BalancedLabels(int num_classes, int per_class) {
  std::vector<int32_t> labels;
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < num_classes; ++c)
      labels.push_back(c);
  }
  return labels;
}

// Mean over workers of the fraction of the worker's shard that belongs to its
// most common class: 1/num_classes for perfectly mixed shards, 1 for
// single-class shards.
double MeanMaxClassFraction(const Partition& partition,
                            std::span<const int32_t> labels, int num_classes) {
  double total = 0.0;
  for (const std::vector<int64_t>& shard : partition) {
    std::vector<int> counts(static_cast<size_t>(num_classes), 0);
    for (const int64_t index : shard) {
      ++counts[static_cast<size_t>(labels[static_cast<size_t>(index)])];
    }
    total +=
        static_cast<double>(*std::max_element(counts.begin(), counts.end())) /
        static_cast<double>(shard.size());
  }
  return total / static_cast<double>(partition.size());
}

TEST(PartitionIidTest, CoversEveryIndexOnceWithNearEqualSizes) {
  const StatusOr<Partition> partition = PartitionIid(1003, 7, 42);
  ASSERT_TRUE(partition.ok()) << partition.status().ToString();
  ASSERT_EQ(partition->size(), 7U);
  ExpectCoversEachIndexOnce(*partition, 1003);
  size_t smallest = partition->front().size();
  size_t largest = smallest;
  for (const auto& shard : *partition) {
    smallest = std::min(smallest, shard.size());
    largest = std::max(largest, shard.size());
  }
  EXPECT_LE(largest - smallest, 1U);
}

TEST(PartitionIidTest, IsShuffled) {
  const StatusOr<Partition> partition = PartitionIid(1000, 4, 1);
  ASSERT_TRUE(partition.ok());
  // A contiguous split would give worker 0 exactly 0..249.
  EXPECT_GT(partition->front().back(), 500);
}

TEST(PartitionIidTest, DeterministicForSeedAndDiffersAcrossSeeds) {
  const StatusOr<Partition> a = PartitionIid(500, 5, 7);
  const StatusOr<Partition> b = PartitionIid(500, 5, 7);
  const StatusOr<Partition> c = PartitionIid(500, 5, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(PartitionIidTest, OneWorkerPerExampleIsAllowed) {
  const StatusOr<Partition> partition = PartitionIid(3, 3, 0);
  ASSERT_TRUE(partition.ok());
  ExpectCoversEachIndexOnce(*partition, 3);
  for (const auto& shard : *partition)
    EXPECT_EQ(shard.size(), 1U);
}

TEST(PartitionIidTest, RejectsBadWorkerCounts) {
  EXPECT_EQ(PartitionIid(10, 0, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionIid(10, -3, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionIid(10, 11, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionIid(0, 1, 0).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(PartitionDirichletTest, CoversEveryIndexOnce) {
  const std::vector<int32_t> labels = BalancedLabels(10, 100);
  for (const double alpha : {0.05, 0.5, 5.0}) {
    SCOPED_TRACE(alpha);
    const StatusOr<Partition> partition =
        PartitionDirichlet(labels, 10, 8, alpha, 3);
    ASSERT_TRUE(partition.ok()) << partition.status().ToString();
    ASSERT_EQ(partition->size(), 8U);
    ExpectCoversEachIndexOnce(*partition, 1000);
  }
}

TEST(PartitionDirichletTest, EveryWorkerIsNonEmpty) {
  // Tiny alpha with many workers leaves most shards empty before the fix-up.
  const std::vector<int32_t> labels = BalancedLabels(10, 10);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    for (const int workers : {50, 100}) {
      const StatusOr<Partition> partition =
          PartitionDirichlet(labels, 10, workers, 0.01, seed);
      ASSERT_TRUE(partition.ok()) << partition.status().ToString();
      ExpectCoversEachIndexOnce(*partition, 100);
      for (size_t w = 0; w < partition->size(); ++w) {
        EXPECT_FALSE((*partition)[w].empty())
            << "worker " << w << " seed " << seed << " workers " << workers;
      }
    }
  }
}

TEST(PartitionDirichletTest, SmallAlphaIsMuchMoreSkewedThanLargeAlpha) {
  const std::vector<int32_t> labels = BalancedLabels(10, 600);
  const StatusOr<Partition> skewed = PartitionDirichlet(labels, 10, 10, 0.1, 5);
  const StatusOr<Partition> mixed = PartitionDirichlet(labels, 10, 10, 100, 5);
  ASSERT_TRUE(skewed.ok() && mixed.ok());
  const double skewed_fraction = MeanMaxClassFraction(*skewed, labels, 10);
  const double mixed_fraction = MeanMaxClassFraction(*mixed, labels, 10);
  // Over 200 seeds alpha = 0.1 gave 0.46-0.73 and alpha = 100 gave
  // 0.11-0.12 (perfect mixing is 0.1).
  EXPECT_GT(skewed_fraction, 0.4);
  EXPECT_LT(mixed_fraction, 0.15);
  EXPECT_GT(skewed_fraction, 3.0 * mixed_fraction);
}

TEST(PartitionDirichletTest, DeterministicForSeedAndDiffersAcrossSeeds) {
  const std::vector<int32_t> labels = BalancedLabels(10, 50);
  const StatusOr<Partition> a = PartitionDirichlet(labels, 10, 4, 0.5, 11);
  const StatusOr<Partition> b = PartitionDirichlet(labels, 10, 4, 0.5, 11);
  const StatusOr<Partition> c = PartitionDirichlet(labels, 10, 4, 0.5, 12);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(PartitionDirichletTest, RejectsBadArguments) {
  const std::vector<int32_t> labels = BalancedLabels(3, 4);
  EXPECT_EQ(PartitionDirichlet(labels, 3, 2, 0.0, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionDirichlet(labels, 3, 2, -1.0, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionDirichlet(labels, 3, 0, 1.0, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionDirichlet(labels, 3, 13, 1.0, 0).status().code(),
            Status::Code::kInvalidArgument);
  // Label 2 is outside [0, 2).
  EXPECT_EQ(PartitionDirichlet(labels, 2, 2, 1.0, 0).status().code(),
            Status::Code::kInvalidArgument);
  const std::vector<int32_t> negative = {0, -1, 1};
  EXPECT_EQ(PartitionDirichlet(negative, 2, 2, 1.0, 0).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(MakePartitionTest, AcceptsValidSpecs) {
  EXPECT_TRUE(ValidatePartitionSpec("iid").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:0.5").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:100").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:1e-3").ok());
}

TEST(MakePartitionTest, RejectsInvalidSpecsNamingThem) {
  for (const std::string spec :
       {"", "IID", "iid ", "random", "dirichlet", "dirichlet:", "dirichlet:0",
        "dirichlet:-1", "dirichlet:abc", "dirichlet:0.5x", "dirichlet: 0.5",
        "dirichlet:inf", "dirichlet:nan", "dirichlet:1e999"}) {
    SCOPED_TRACE(spec);
    const Status status = ValidatePartitionSpec(spec);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(status.message().find("\"" + spec + "\""), std::string::npos)
        << status.ToString();
    const std::vector<int32_t> labels = BalancedLabels(2, 5);
    EXPECT_EQ(MakePartition(spec, labels, 2, 2, 0).status().code(),
              Status::Code::kInvalidArgument);
  }
}

TEST(MakePartitionTest, DispatchesOnSpec) {
  const std::vector<int32_t> labels = BalancedLabels(10, 30);
  const StatusOr<Partition> iid = MakePartition("iid", labels, 10, 6, 9);
  const StatusOr<Partition> expected_iid = PartitionIid(300, 6, 9);
  ASSERT_TRUE(iid.ok() && expected_iid.ok());
  EXPECT_EQ(*iid, *expected_iid);

  const StatusOr<Partition> dirichlet =
      MakePartition("dirichlet:0.3", labels, 10, 6, 9);
  const StatusOr<Partition> expected_dirichlet =
      PartitionDirichlet(labels, 10, 6, 0.3, 9);
  ASSERT_TRUE(dirichlet.ok() && expected_dirichlet.ok());
  EXPECT_EQ(*dirichlet, *expected_dirichlet);
}

TEST(MakePartitionTest, RejectsWorkerCountOutsideRange) {
  const std::vector<int32_t> labels = BalancedLabels(2, 2);
  for (const std::string spec : {"iid", "dirichlet:1"}) {
    EXPECT_EQ(MakePartition(spec, labels, 2, 0, 0).status().code(),
              Status::Code::kInvalidArgument);
    EXPECT_EQ(MakePartition(spec, labels, 2, 5, 0).status().code(),
              Status::Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace anchorage::data
