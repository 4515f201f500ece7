#include "common/data/dataset.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::data {
namespace {

constexpr const char* kInstalledFashionMnist =
    "/usr/share/datasets/fashion-mnist";

TEST(DatasetTest, FashionMnistBinaryFoldsClassesIntoTwoBalancedLabels) {
  ASSERT_TRUE(std::filesystem::is_directory(kInstalledFashionMnist))
      << kInstalledFashionMnist << " is missing; the setup installs it";
  const StatusOr<TrainTest> binary =
      LoadDataset(DatasetKind::kFashionMnistBinary, "", 0);
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  const StatusOr<TrainTest> original =
      LoadDataset(DatasetKind::kFashionMnist, "", 0);
  ASSERT_TRUE(original.ok()) << original.status().ToString();

  EXPECT_EQ(binary->train.size(), 60000);
  EXPECT_EQ(binary->test.size(), 10000);
  EXPECT_EQ(binary->train.dim(), 784);
  EXPECT_EQ(binary->train.num_classes, 2);
  EXPECT_EQ(binary->test.num_classes, 2);
  EXPECT_EQ(binary->train.features, original->train.features);
  EXPECT_EQ(binary->test.features, original->test.features);

  std::vector<int64_t> train_counts(2, 0);
  for (size_t i = 0; i < binary->train.labels.size(); ++i) {
    const int32_t label = binary->train.labels[i];
    ASSERT_TRUE(label == 0 || label == 1) << "label " << label;
    ++train_counts[static_cast<size_t>(label)];
    ASSERT_EQ(label, original->train.labels[i] >= 5 ? 1 : 0) << "row " << i;
  }
  EXPECT_EQ(train_counts[0], 30000);
  EXPECT_EQ(train_counts[1], 30000);
  for (size_t i = 0; i < binary->test.labels.size(); ++i) {
    ASSERT_EQ(binary->test.labels[i], original->test.labels[i] >= 5 ? 1 : 0)
        << "row " << i;
  }
  // The ten classes stay as the source of the two labels.
  EXPECT_EQ(binary->train.source_labels, original->train.labels);
  EXPECT_EQ(binary->train.source_classes, 10);
  EXPECT_TRUE(original->train.source_labels.empty());
}

TEST(DatasetTest, StandardizeUsesTheTrainingSplitsMomentsForBoth) {
  TrainTest data;
  data.train.features.resize(4, 2);
  data.train.features << 1, 5, 3, 5, 5, 5, 7, 5;  // column 1 is constant
  data.test.features.resize(1, 2);
  data.test.features << 4, 6;
  Standardize(&data);
  // Column 0: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5.
  const float scale = 1.0F / std::sqrt(5.0F);
  EXPECT_NEAR(data.train.features(0, 0), -3 * scale, 1e-6);
  EXPECT_NEAR(data.train.features(3, 0), 3 * scale, 1e-6);
  EXPECT_NEAR(data.test.features(0, 0), 0.0, 1e-6);
  // The constant column is only centred.
  EXPECT_EQ(data.train.features(2, 1), 0.0F);
  EXPECT_EQ(data.test.features(0, 1), 1.0F);
}

TEST(DatasetTest, MissingFashionMnistBinaryDirectoryIsNotFound) {
  const std::string dir = ::testing::TempDir() + "/no-such-fashion-mnist-dir";
  const Status status =
      LoadDataset(DatasetKind::kFashionMnistBinary, dir, 0).status();
  EXPECT_EQ(status.code(), Status::Code::kNotFound);
  EXPECT_NE(status.message().find(dir), std::string::npos) << status.ToString();
}

TEST(DatasetTest, EveryKindHasOneNameThatReadsBack) {
  std::set<std::string_view> names;
  for (const EnumName<DatasetKind>& entry : kDatasetNames) {
    EXPECT_FALSE(entry.name.empty());
    EXPECT_TRUE(names.insert(entry.name).second) << entry.name;
    EXPECT_EQ(ValueNamed(kDatasetNames, entry.name), entry.value);
    EXPECT_EQ(DatasetName(entry.value), entry.name);
  }
  EXPECT_EQ(DatasetName(DatasetKind::kFashionMnistBinary),
            "fashion-mnist-binary");
  EXPECT_EQ(ValueNamed(kDatasetNames, "fashion-mnist-binary2"), std::nullopt);
}

}  // namespace
}  // namespace anchorage::data
