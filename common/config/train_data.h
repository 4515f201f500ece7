// The data a run trains on, as its training options name it: the dataset
// (data::LoadDataset) and, with --standardize, its features standardised
// over the training split (data::Standardize). Every role loads through
// here, so the server, the workers, the simulator and compare see the same
// features.
#pragma once

#include "common/base/status.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"

namespace anchorage::config {

// Returns LoadDataset's error (a missing or malformed file).
StatusOr<data::TrainTest> LoadTrainingData(const TrainOptions& train);

}  // namespace anchorage::config
