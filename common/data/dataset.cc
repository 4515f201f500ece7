#include "common/data/dataset.h"

#include <string>

#include "common/data/idx_reader.h"
#include "common/data/synthetic.h"

namespace anchorage::data {
namespace {

constexpr const char* kDefaultFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

}  // namespace

int64_t Dataset::size() const {
  return features.rows();
}

int64_t Dataset::dim() const {
  return features.cols();
}

StatusOr<TrainTest> LoadDataset(const std::string& name,
                                const std::string& data_dir, uint64_t seed) {
  if (name == "fashion-mnist") {
    return LoadFashionMnist(data_dir.empty() ? kDefaultFashionMnistDir
                                             : data_dir);
  }
  if (name == "synthetic-gaussian") {
    return MakeGaussianMixture(/*num_classes=*/10, /*dim=*/32,
                               /*train_size=*/20000, /*test_size=*/4000, seed);
  }
  if (name == "synthetic-logistic") {
    return MakeLogistic(/*dim=*/20, /*train_size=*/10000, /*test_size=*/2000,
                        /*label_noise=*/0.1, seed);
  }
  return Status::InvalidArgument(
      "unknown dataset \"" + name +
      "\"; valid names: fashion-mnist, synthetic-gaussian, "
      "synthetic-logistic");
}

}  // namespace anchorage::data
