#include "common/data/partition.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <utility>
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
    for (int c = 0; c < num_classes; ++c) {
      labels.push_back(c);
    }
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

// The label histogram of `shard`, as fractions of its size.
std::vector<double> LabelDistribution(const std::vector<int64_t>& shard,
                                      std::span<const int32_t> labels,
                                      int num_classes) {
  std::vector<double> distribution(static_cast<size_t>(num_classes), 0.0);
  for (const int64_t index : shard) {
    distribution[static_cast<size_t>(labels[static_cast<size_t>(index)])] +=
        1.0 / static_cast<double>(shard.size());
  }
  return distribution;
}

// Mean over workers of the total-variation distance between the worker's
// label distribution and the whole training set's: 0 for shards mixed like
// the whole set, 1 - 1/num_classes for single-class shards of balanced data.
double MeanTotalVariation(const Partition& partition,
                          std::span<const int32_t> labels, int num_classes) {
  std::vector<int64_t> all(labels.size());
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<int64_t>(i);
  }
  const std::vector<double> global =
      LabelDistribution(all, labels, num_classes);
  double total = 0.0;
  for (const std::vector<int64_t>& shard : partition) {
    const std::vector<double> local =
        LabelDistribution(shard, labels, num_classes);
    double distance = 0.0;
    for (size_t c = 0; c < local.size(); ++c) {
      distance += 0.5 * std::abs(local[c] - global[c]);
    }
    total += distance;
  }
  return total / static_cast<double>(partition.size());
}

// Asserts that shard sizes differ by at most one.
void ExpectNearEqualSizes(const Partition& partition) {
  size_t smallest = partition.front().size();
  size_t largest = smallest;
  for (const auto& shard : partition) {
    smallest = std::min(smallest, shard.size());
    largest = std::max(largest, shard.size());
  }
  EXPECT_LE(largest - smallest, 1U);
}

// Labels where label c has 10 * (c + 1) examples, in a fixed scrambled
// order: unbalanced, so blocks straddle labels.
std::vector<int32_t> UnbalancedLabels(int num_classes) {
  std::vector<int32_t> labels;
  for (int c = 0; c < num_classes; ++c) {
    for (int i = 0; i < 10 * (c + 1); ++i) {
      labels.push_back(c);
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    std::swap(labels[i], labels[(i * 7919) % labels.size()]);
  }
  return labels;
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
  for (const auto& shard : *partition) {
    EXPECT_EQ(shard.size(), 1U);
  }
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

TEST(PartitionMixTest, CoversEveryIndexOnceWithNearEqualSizes) {
  const std::vector<int32_t> labels = UnbalancedLabels(10);
  for (const double fraction : {0.0, 0.3, 0.5, 1.0}) {
    for (const int workers : {1, 3, 7, 25}) {
      SCOPED_TRACE("fraction " + std::to_string(fraction) + " workers " +
                   std::to_string(workers));
      const StatusOr<Partition> partition =
          PartitionMix(labels, 10, workers, fraction, 4);
      ASSERT_TRUE(partition.ok()) << partition.status().ToString();
      ASSERT_EQ(partition->size(), static_cast<size_t>(workers));
      ExpectCoversEachIndexOnce(*partition, 550);
      ExpectNearEqualSizes(*partition);
    }
  }
}

TEST(PartitionMixTest, ZeroFractionGivesEachWorkerItsLabelBlock) {
  // 5 workers, 10 balanced classes: worker i holds exactly labels 2i, 2i+1.
  const std::vector<int32_t> labels = BalancedLabels(10, 100);
  const StatusOr<Partition> partition = PartitionMix(labels, 10, 5, 0.0, 8);
  ASSERT_TRUE(partition.ok()) << partition.status().ToString();
  for (size_t w = 0; w < partition->size(); ++w) {
    std::vector<int32_t> seen;
    for (const int64_t index : (*partition)[w]) {
      seen.push_back(labels[static_cast<size_t>(index)]);
    }
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    EXPECT_LE(seen.size(), 2U) << "worker " << w;
    EXPECT_EQ(seen.front(), static_cast<int32_t>(2 * w)) << "worker " << w;
  }
}

TEST(PartitionMixTest, ZeroFractionWithMoreWorkersThanClassesSeesAtMostTwo) {
  // Blocks of 12 examples, 30 examples per label.
  const std::vector<int32_t> labels = BalancedLabels(10, 30);
  const StatusOr<Partition> partition = PartitionMix(labels, 10, 25, 0.0, 2);
  ASSERT_TRUE(partition.ok()) << partition.status().ToString();
  for (size_t w = 0; w < partition->size(); ++w) {
    const std::vector<double> distribution =
        LabelDistribution((*partition)[w], labels, 10);
    EXPECT_LE(std::count_if(distribution.begin(), distribution.end(),
                            [](double p) { return p > 0.0; }),
              2)
        << "worker " << w;
  }
}

TEST(PartitionMixTest, FullFractionGivesEachWorkerAllClassesBalanced) {
  const std::vector<int32_t> labels = BalancedLabels(10, 600);
  const StatusOr<Partition> partition = PartitionMix(labels, 10, 5, 1.0, 6);
  ASSERT_TRUE(partition.ok()) << partition.status().ToString();
  for (size_t w = 0; w < partition->size(); ++w) {
    const std::vector<double> distribution =
        LabelDistribution((*partition)[w], labels, 10);
    for (size_t c = 0; c < distribution.size(); ++c) {
      // 1200 examples per shard: a class's share is 0.1 +- 0.009 (one
      // standard deviation) under IID sampling; 200 seeds stayed within 0.034.
      EXPECT_NEAR(distribution[c], 0.1, 0.045)
          << "worker " << w << " class " << c;
    }
  }
}

TEST(PartitionMixTest, HeterogeneityDecreasesAsFractionGrows) {
  const std::vector<int32_t> labels = BalancedLabels(10, 600);
  std::vector<double> distances;
  for (const double fraction : {0.0, 0.5, 1.0}) {
    const StatusOr<Partition> partition =
        PartitionMix(labels, 10, 5, fraction, 13);
    ASSERT_TRUE(partition.ok()) << partition.status().ToString();
    distances.push_back(MeanTotalVariation(*partition, labels, 10));
  }
  // Two labels per worker at P = 0 give 0.8; the pool dilutes that to
  // (1 - P) * 0.8 up to sampling noise.
  EXPECT_NEAR(distances[0], 0.8, 1e-9);
  EXPECT_NEAR(distances[1], 0.4, 0.05);
  EXPECT_LT(distances[2], 0.06);
  EXPECT_GT(distances[0], distances[1]);
  EXPECT_GT(distances[1], distances[2]);
}

TEST(PartitionMixTest, DeterministicForSeedAndDiffersAcrossSeeds) {
  const std::vector<int32_t> labels = UnbalancedLabels(6);
  const StatusOr<Partition> a = PartitionMix(labels, 6, 4, 0.5, 11);
  const StatusOr<Partition> b = PartitionMix(labels, 6, 4, 0.5, 11);
  const StatusOr<Partition> c = PartitionMix(labels, 6, 4, 0.5, 12);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

TEST(PartitionMixTest, RejectsBadArguments) {
  const std::vector<int32_t> labels = BalancedLabels(3, 4);
  for (const double fraction : {-0.1, 1.1, std::nan("")}) {
    const Status status = PartitionMix(labels, 3, 2, fraction, 0).status();
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(status.message().find("mixing fraction"), std::string::npos)
        << status.ToString();
  }
  EXPECT_EQ(PartitionMix(labels, 3, 0, 0.5, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(PartitionMix(labels, 3, 13, 0.5, 0).status().code(),
            Status::Code::kInvalidArgument);
  // Label 2 is outside [0, 2).
  EXPECT_EQ(PartitionMix(labels, 2, 2, 0.5, 0).status().code(),
            Status::Code::kInvalidArgument);
}

// The data a partition splits: only the labels matter.
Dataset Labelled(std::vector<int32_t> labels, int num_classes) {
  Dataset dataset;
  dataset.labels = std::move(labels);
  dataset.num_classes = num_classes;
  return dataset;
}

// Checks that `partition` covers 0..n-1 exactly once.
void ExpectCoversOnce(const Partition& partition, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& shard : partition) {
    for (const int64_t i : shard) {
      ++seen[static_cast<size_t>(i)];
    }
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<ptrdiff_t>(n));
}

TEST(PartitionPairsTest, TwentyFiveWorkersHoldEveryPairOnce) {
  const std::vector<int32_t> classes = BalancedLabels(10, 50);
  const StatusOr<Partition> partition = PartitionPairs(classes, 10, 25, 0.0, 3);
  ASSERT_TRUE(partition.ok()) << partition.status().ToString();
  ExpectCoversOnce(*partition, classes.size());
  std::set<std::pair<int32_t, int32_t>> pairs;
  for (const auto& shard : *partition) {
    std::set<int32_t> held;
    for (const int64_t i : shard) {
      held.insert(classes[static_cast<size_t>(i)]);
    }
    ASSERT_EQ(held.size(), 2U);
    EXPECT_LT(*held.begin(), 5);
    EXPECT_GE(*held.rbegin(), 5);
    pairs.insert({*held.begin(), *held.rbegin()});
    EXPECT_EQ(shard.size(), 20U);  // 50 / 5 of each of its two classes
  }
  EXPECT_EQ(pairs.size(), 25U);
}

TEST(PartitionPairsTest, MixingOneMakesEveryShardSeeEveryClass) {
  const std::vector<int32_t> classes = BalancedLabels(10, 50);
  const StatusOr<Partition> partition = PartitionPairs(classes, 10, 25, 1.0, 3);
  ASSERT_TRUE(partition.ok());
  ExpectCoversOnce(*partition, classes.size());
  size_t widest = 0;
  for (const auto& shard : *partition) {
    std::set<int32_t> held;
    for (const int64_t i : shard) {
      held.insert(classes[static_cast<size_t>(i)]);
    }
    widest = std::max(widest, held.size());
  }
  EXPECT_GE(widest, 7U);
}

TEST(PartitionPairsTest, SplitsAFoldedDatasetByItsSourceClasses) {
  Dataset folded = Labelled({}, 2);
  folded.source_labels = BalancedLabels(10, 50);
  folded.source_classes = 10;
  for (const int32_t c : folded.source_labels) {
    folded.labels.push_back(c >= 5 ? 1 : 0);
  }
  const StatusOr<Partition> made = MakePartition("pairs:0", folded, 25, 3);
  const StatusOr<Partition> direct =
      PartitionPairs(folded.source_labels, 10, 25, 0.0, 3);
  ASSERT_TRUE(made.ok() && direct.ok());
  EXPECT_EQ(*made, *direct);
}

TEST(PartitionPairsTest, RefusesWhatCannotHoldEveryClass) {
  EXPECT_EQ(
      PartitionPairs(BalancedLabels(9, 10), 9, 10, 0.0, 1).status().code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(
      PartitionPairs(BalancedLabels(10, 10), 10, 4, 0.0, 1).status().code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(
      PartitionPairs(BalancedLabels(10, 10), 10, 5, 1.5, 1).status().code(),
      Status::Code::kInvalidArgument);
}

TEST(MakePartitionTest, AcceptsValidSpecs) {
  EXPECT_TRUE(ValidatePartitionSpec("iid").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:0.5").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:100").ok());
  EXPECT_TRUE(ValidatePartitionSpec("dirichlet:1e-3").ok());
  EXPECT_TRUE(ValidatePartitionSpec("mix:0").ok());
  EXPECT_TRUE(ValidatePartitionSpec("mix:0.25").ok());
  EXPECT_TRUE(ValidatePartitionSpec("mix:1").ok());
  EXPECT_TRUE(ValidatePartitionSpec("mix:1.0").ok());
  EXPECT_TRUE(ValidatePartitionSpec("pairs:0").ok());
  EXPECT_TRUE(ValidatePartitionSpec("pairs:0.5").ok());
}

TEST(MakePartitionTest, RejectsInvalidSpecsNamingThem) {
  for (const std::string spec : {"",
                                 "IID",
                                 "iid ",
                                 "random",
                                 "dirichlet",
                                 "dirichlet:",
                                 "dirichlet:0",
                                 "dirichlet:-1",
                                 "dirichlet:abc",
                                 "dirichlet:0.5x",
                                 "dirichlet: 0.5",
                                 "dirichlet:inf",
                                 "dirichlet:nan",
                                 "dirichlet:1e999",
                                 "mix",
                                 "mix:",
                                 "mix:-0.1",
                                 "mix:1.5",
                                 "mix:2",
                                 "mix:nan",
                                 "mix:0.5x",
                                 "mix: 0.5",
                                 "MIX:0.5",
                                 "mix:0.5:0.1",
                                 "pairs",
                                 "pairs:",
                                 "pairs:1.5"}) {
    SCOPED_TRACE(spec);
    const Status status = ValidatePartitionSpec(spec);
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(status.message().find("\"" + spec + "\""), std::string::npos)
        << status.ToString();
    const Dataset labels = Labelled(BalancedLabels(2, 5), 2);
    EXPECT_EQ(MakePartition(spec, labels, 2, 0).status().code(),
              Status::Code::kInvalidArgument);
  }
}

TEST(MakePartitionTest, DispatchesOnSpec) {
  const std::vector<int32_t> labels = BalancedLabels(10, 30);
  const Dataset train = Labelled(labels, 10);
  const StatusOr<Partition> iid = MakePartition("iid", train, 6, 9);
  const StatusOr<Partition> expected_iid = PartitionIid(300, 6, 9);
  ASSERT_TRUE(iid.ok() && expected_iid.ok());
  EXPECT_EQ(*iid, *expected_iid);

  const StatusOr<Partition> dirichlet =
      MakePartition("dirichlet:0.3", train, 6, 9);
  const StatusOr<Partition> expected_dirichlet =
      PartitionDirichlet(labels, 10, 6, 0.3, 9);
  ASSERT_TRUE(dirichlet.ok() && expected_dirichlet.ok());
  EXPECT_EQ(*dirichlet, *expected_dirichlet);

  const StatusOr<Partition> mix = MakePartition("mix:0.4", train, 6, 9);
  const StatusOr<Partition> expected_mix = PartitionMix(labels, 10, 6, 0.4, 9);
  ASSERT_TRUE(mix.ok() && expected_mix.ok());
  EXPECT_EQ(*mix, *expected_mix);
}

TEST(MakePartitionTest, RejectsWorkerCountOutsideRange) {
  const Dataset labels = Labelled(BalancedLabels(2, 2), 2);
  for (const std::string spec : {"iid", "dirichlet:1", "mix:0.5"}) {
    EXPECT_EQ(MakePartition(spec, labels, 0, 0).status().code(),
              Status::Code::kInvalidArgument);
    EXPECT_EQ(MakePartition(spec, labels, 5, 0).status().code(),
              Status::Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace anchorage::data
