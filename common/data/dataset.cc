#include "common/data/dataset.h"

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/base/check.h"
#include "common/data/idx_reader.h"
#include "common/data/synthetic.h"

namespace anchorage::data {
namespace {

constexpr const char* kDefaultFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST classes from this one on get label 1 in the binary variant,
// the rest label 0: five classes each, so the labels are balanced.
constexpr int32_t kFirstPositiveClass = 5;

// Folds the ten Fashion-MNIST classes of `split` into two, keeping them as
// the source classes.
void MakeBinary(Dataset* split) {
  split->source_labels = split->labels;
  split->source_classes = split->num_classes;
  for (int32_t& label : split->labels) {
    label = label >= kFirstPositiveClass ? 1 : 0;
  }
  split->num_classes = 2;
}

}  // namespace

int64_t Dataset::size() const {
  return features.rows();
}

int64_t Dataset::dim() const {
  return features.cols();
}

Dataset SelectRows(const Dataset& dataset, std::span<const int64_t> rows) {
  Dataset out;
  out.features.resize(static_cast<Eigen::Index>(rows.size()), dataset.dim());
  out.labels.resize(rows.size());
  out.num_classes = dataset.num_classes;
  out.source_classes = dataset.source_classes;
  if (!dataset.source_labels.empty()) out.source_labels.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t row = rows[i];
    ANCHORAGE_CHECK(row >= 0 && row < dataset.size(),
                    "SelectRows of a row outside the dataset");
    const auto r = static_cast<size_t>(row);
    out.features.row(static_cast<Eigen::Index>(i)) = dataset.features.row(row);
    out.labels[i] = dataset.labels[r];
    if (!out.source_labels.empty()) {
      out.source_labels[i] = dataset.source_labels[r];
    }
  }
  return out;
}

StatusOr<TrainTest> LoadDataset(DatasetKind kind, const std::string& data_dir,
                                uint64_t seed) {
  const std::string fashion_mnist_dir =
      data_dir.empty() ? kDefaultFashionMnistDir : data_dir;
  switch (kind) {
    case DatasetKind::kFashionMnist:
      return LoadFashionMnist(fashion_mnist_dir);
    case DatasetKind::kFashionMnistBinary: {
      StatusOr<TrainTest> data = LoadFashionMnist(fashion_mnist_dir);
      if (!data.ok()) return data.status();
      MakeBinary(&data->train);
      MakeBinary(&data->test);
      return data;
    }
    case DatasetKind::kSyntheticGaussian:
      return MakeGaussianMixture(/*num_classes=*/10, /*dim=*/32,
                                 /*train_size=*/20000, /*test_size=*/4000,
                                 seed);
    case DatasetKind::kSyntheticLogistic:
      return MakeLogistic(/*dim=*/20, /*train_size=*/10000, /*test_size=*/2000,
                          /*label_noise=*/0.1, seed);
  }
  return Status::InvalidArgument("unknown dataset kind " +
                                 std::to_string(static_cast<int>(kind)));
}

Standardization ComputeStandardization(const RowMatrix& train) {
  const Eigen::Index rows = train.rows();
  const Eigen::Index cols = train.cols();
  Standardization result;
  result.mean.assign(static_cast<size_t>(cols), 0.0);
  result.scale.assign(static_cast<size_t>(cols), 1.0F);
  if (rows == 0) return result;
  // Two passes in double: sums of 60,000 floats would lose digits.
  std::vector<double>& mean = result.mean;
  std::vector<double> variance(static_cast<size_t>(cols), 0.0);
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      mean[static_cast<size_t>(j)] += train(r, j);
    }
  }
  for (double& m : mean) {
    m /= static_cast<double>(rows);
  }
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      const double centred = train(r, j) - mean[static_cast<size_t>(j)];
      variance[static_cast<size_t>(j)] += centred * centred;
    }
  }
  for (size_t j = 0; j < result.scale.size(); ++j) {
    const double v = variance[j] / static_cast<double>(rows);
    if (v > 0) result.scale[j] = static_cast<float>(1.0 / std::sqrt(v));
  }
  return result;
}

void ApplyStandardization(const Standardization& standardization,
                          RowMatrix* features) {
  const std::vector<double>& mean = standardization.mean;
  const std::vector<float>& scale = standardization.scale;
  ANCHORAGE_CHECK(mean.size() == static_cast<size_t>(features->cols()) &&
                      scale.size() == mean.size(),
                  "a standardization of another number of features");
  for (Eigen::Index r = 0; r < features->rows(); ++r) {
    for (Eigen::Index j = 0; j < features->cols(); ++j) {
      const auto k = static_cast<size_t>(j);
      (*features)(r, j) = static_cast<float>(((*features)(r, j) - mean[k]) *
                                             static_cast<double>(scale[k]));
    }
  }
}

void Standardize(TrainTest* data) {
  // An empty training split has nothing to standardise by.
  if (data->train.features.rows() == 0) return;
  const Standardization standardization =
      ComputeStandardization(data->train.features);
  ApplyStandardization(standardization, &data->train.features);
  ApplyStandardization(standardization, &data->test.features);
}

}  // namespace anchorage::data
