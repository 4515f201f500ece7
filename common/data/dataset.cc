#include "common/data/dataset.h"

#include <cstdint>
#include <string>

#include "common/data/idx_reader.h"
#include "common/data/synthetic.h"

namespace anchorage::data {
namespace {

constexpr const char* kDefaultFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST classes from this one on get label 1 in the binary variant,
// the rest label 0: five classes each, so the labels are balanced.
constexpr int32_t kFirstPositiveClass = 5;

// Folds the ten Fashion-MNIST classes of `split` into two.
void MakeBinary(Dataset* split) {
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

}  // namespace anchorage::data
