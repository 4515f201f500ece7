#include "common/data/synthetic.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/data/dataset.h"
#include "common/tensor/tensor.h"

namespace anchorage::data {
namespace {

std::vector<int64_t> ClassCounts(const Dataset& split) {
  std::vector<int64_t> counts(static_cast<size_t>(split.num_classes), 0);
  for (const int32_t label : split.labels) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, split.num_classes);
    if (label >= 0 && label < split.num_classes) {
      ++counts[static_cast<size_t>(label)];
    }
  }
  return counts;
}

// Test accuracy of the nearest-class-mean classifier fitted on train. With
// equal isotropic class covariances this is the optimal (linear) classifier.
double NearestMeanAccuracy(const TrainTest& data) {
  const int classes = data.train.num_classes;
  RowMatrix means = RowMatrix::Zero(classes, data.train.dim());
  std::vector<double> counts(static_cast<size_t>(classes), 0.0);
  for (int64_t i = 0; i < data.train.size(); ++i) {
    const int32_t label = data.train.labels[static_cast<size_t>(i)];
    means.row(label) += data.train.features.row(i);
    counts[static_cast<size_t>(label)] += 1.0;
  }
  for (int c = 0; c < classes; ++c) {
    means.row(c) /= static_cast<float>(counts[static_cast<size_t>(c)]);
  }
  int64_t correct = 0;
  for (int64_t i = 0; i < data.test.size(); ++i) {
    Eigen::Index best = 0;
    (means.rowwise() - data.test.features.row(i))
        .rowwise()
        .squaredNorm()
        .minCoeff(&best);
    if (best == data.test.labels[static_cast<size_t>(i)]) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(data.test.size());
}

TEST(SyntheticTest, GaussianMixtureHasRequestedShapeAndBalancedClasses) {
  const StatusOr<TrainTest> data = MakeGaussianMixture(7, 12, 1000, 301, 3);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->train.size(), 1000);
  EXPECT_EQ(data->test.size(), 301);
  EXPECT_EQ(data->train.dim(), 12);
  EXPECT_EQ(data->test.dim(), 12);
  EXPECT_EQ(data->train.labels.size(), 1000U);
  EXPECT_EQ(data->test.labels.size(), 301U);
  EXPECT_EQ(data->train.num_classes, 7);
  EXPECT_EQ(data->test.num_classes, 7);
  for (const Dataset* split : {&data->train, &data->test}) {
    const std::vector<int64_t> counts = ClassCounts(*split);
    for (const int64_t count : counts) {
      EXPECT_NEAR(static_cast<double>(count),
                  static_cast<double>(split->size()) / 7.0, 1.0);
    }
  }
}

TEST(SyntheticTest, GaussianMixtureIsDeterministicForSeed) {
  const StatusOr<TrainTest> a = MakeGaussianMixture(10, 32, 500, 100, 17);
  const StatusOr<TrainTest> b = MakeGaussianMixture(10, 32, 500, 100, 17);
  const StatusOr<TrainTest> c = MakeGaussianMixture(10, 32, 500, 100, 18);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train.features, b->train.features);
  EXPECT_EQ(a->train.labels, b->train.labels);
  EXPECT_EQ(a->test.features, b->test.features);
  EXPECT_EQ(a->test.labels, b->test.labels);
  EXPECT_NE(a->train.features, c->train.features);
}

TEST(SyntheticTest, GaussianMixtureTrainAndTestAreDifferentSamples) {
  const StatusOr<TrainTest> data = MakeGaussianMixture(4, 8, 200, 200, 1);
  ASSERT_TRUE(data.ok());
  EXPECT_NE(data->train.features, data->test.features);
}

TEST(SyntheticTest, GaussianMixtureIsSeparableButNotTrivially) {
  for (const uint64_t seed : {0ULL, 1ULL, 2ULL, 12345ULL}) {
    const StatusOr<TrainTest> data =
        MakeGaussianMixture(10, 32, 20000, 4000, seed);
    ASSERT_TRUE(data.ok());
    const double accuracy = NearestMeanAccuracy(*data);
    EXPECT_GT(accuracy, 0.8) << "seed " << seed;
    EXPECT_LT(accuracy, 0.95) << "seed " << seed;
  }
}

TEST(SyntheticTest, GaussianMixtureRejectsBadArguments) {
  EXPECT_EQ(MakeGaussianMixture(1, 4, 10, 10, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeGaussianMixture(3, 0, 10, 10, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeGaussianMixture(3, 4, 0, 10, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeGaussianMixture(3, 4, 10, -1, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(
      MakeGaussianMixture(3, 1 << 20, int64_t{1} << 20, 10, 0).status().code(),
      Status::Code::kInvalidArgument);
}

TEST(SyntheticTest, LogisticHasRequestedShapeAndBinaryLabels) {
  const StatusOr<TrainTest> data = MakeLogistic(20, 4000, 1000, 0.1, 5);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->train.size(), 4000);
  EXPECT_EQ(data->test.size(), 1000);
  EXPECT_EQ(data->train.dim(), 20);
  EXPECT_EQ(data->train.num_classes, 2);
  const std::vector<int64_t> counts = ClassCounts(data->train);
  ASSERT_EQ(counts.size(), 2U);
  // The teacher has no bias, so the classes are balanced up to sampling.
  EXPECT_NEAR(static_cast<double>(counts[0]) / 4000.0, 0.5, 0.05);
}

TEST(SyntheticTest, LogisticLabelsFollowALinearTeacherWithNoise) {
  const StatusOr<TrainTest> data = MakeLogistic(20, 10000, 4000, 0.1, 9);
  ASSERT_TRUE(data.ok());
  // Estimate the teacher direction from train, as the mean of +-x.
  Vector direction = Vector::Zero(20);
  for (int64_t i = 0; i < data->train.size(); ++i) {
    const float sign =
        data->train.labels[static_cast<size_t>(i)] == 1 ? 1.0F : -1.0F;
    direction += sign * data->train.features.row(i).transpose();
  }
  int64_t correct = 0;
  for (int64_t i = 0; i < data->test.size(); ++i) {
    const int predicted = data->test.features.row(i).dot(direction) > 0 ? 1 : 0;
    if (predicted == data->test.labels[static_cast<size_t>(i)]) ++correct;
  }
  const double accuracy =
      static_cast<double>(correct) / static_cast<double>(data->test.size());
  // 10% of labels are flipped, so even the true teacher scores about 0.9.
  EXPECT_GT(accuracy, 0.85);
  EXPECT_LT(accuracy, 0.93);
}

TEST(SyntheticTest, LogisticIsDeterministicForSeed) {
  const StatusOr<TrainTest> a = MakeLogistic(5, 300, 50, 0.2, 4);
  const StatusOr<TrainTest> b = MakeLogistic(5, 300, 50, 0.2, 4);
  const StatusOr<TrainTest> c = MakeLogistic(5, 300, 50, 0.2, 6);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train.features, b->train.features);
  EXPECT_EQ(a->train.labels, b->train.labels);
  EXPECT_EQ(a->test.labels, b->test.labels);
  EXPECT_NE(a->train.features, c->train.features);
}

TEST(SyntheticTest, LogisticRejectsBadArguments) {
  EXPECT_EQ(MakeLogistic(0, 10, 10, 0.1, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeLogistic(4, 0, 10, 0.1, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeLogistic(4, 10, 10, -0.1, 0).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeLogistic(4, 10, 10, 0.5, 0).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(DatasetTest, LoadsSyntheticSets) {
  const StatusOr<TrainTest> gaussian =
      LoadDataset(DatasetKind::kSyntheticGaussian, "", 1);
  ASSERT_TRUE(gaussian.ok()) << gaussian.status().ToString();
  EXPECT_EQ(gaussian->train.size(), 20000);
  EXPECT_EQ(gaussian->test.size(), 4000);
  EXPECT_EQ(gaussian->train.dim(), 32);
  EXPECT_EQ(gaussian->train.num_classes, 10);

  const StatusOr<TrainTest> logistic =
      LoadDataset(DatasetKind::kSyntheticLogistic, "/ignored", 1);
  ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
  EXPECT_EQ(logistic->train.size(), 10000);
  EXPECT_EQ(logistic->test.size(), 2000);
  EXPECT_EQ(logistic->train.dim(), 20);
  EXPECT_EQ(logistic->train.num_classes, 2);
}

TEST(DatasetTest, SyntheticDataDependsOnlyOnSeed) {
  const StatusOr<TrainTest> a =
      LoadDataset(DatasetKind::kSyntheticGaussian, "", 21);
  const StatusOr<TrainTest> b =
      LoadDataset(DatasetKind::kSyntheticGaussian, "/x", 21);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->train.features, b->train.features);
  EXPECT_EQ(a->test.labels, b->test.labels);
}

TEST(DatasetTest, MissingFashionMnistDirectoryIsNotFound) {
  const std::string dir = ::testing::TempDir() + "/no-such-fashion-mnist-dir";
  const Status status =
      LoadDataset(DatasetKind::kFashionMnist, dir, 0).status();
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_NE(status.message().find(dir), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace anchorage::data
