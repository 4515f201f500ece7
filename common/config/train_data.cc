#include "common/config/train_data.h"

namespace anchorage::config {

StatusOr<data::TrainTest> LoadTrainingData(const TrainOptions& train) {
  StatusOr<data::TrainTest> data =
      data::LoadDataset(train.dataset, train.data_dir, train.seed);
  if (data.ok() && train.standardize) data::Standardize(&*data);
  return data;
}

}  // namespace anchorage::config
