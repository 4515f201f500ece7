// The data a run trains on, as its training options name it: the dataset
// (data::LoadDataset) and, with --standardize, its features standardised
// over the training split (data::Standardize). Every role loads through
// here, so the server, the workers, the simulator and compare see the same
// features.
//
// With --data-cache DIR, a dataset read from files goes through its decoded
// cache in DIR (data/dataset_cache.h): a valid cache file is mapped and
// only the rows needed are copied out of it; a missing one is made by
// decoding the source files and written; a corrupt, truncated or
// mismatched one is refused (a warning naming it), the source decoded
// instead and the cache written again. A cache that cannot be written is
// a warning, and the decoded data is used. Both ways give the same data,
// bit for bit.
//
// Thread-safety: free functions; concurrent loads (several processes or
// threads, one cache) are safe.
#pragma once

#include <cstdint>

#include "common/base/status.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"

namespace anchorage::config {

// Returns LoadDataset's error (a missing or malformed file).
StatusOr<data::TrainTest> LoadTrainingData(const TrainOptions& train);

// What one worker trains on.
struct WorkerData {
  // Its shard of the training split under the run's partition: the rows
  // data::MakePartition gives it, in increasing order, standardised as the
  // run says; a worker holds these rows only.
  data::Dataset shard;
  // Examples in the whole training split (an epoch is a pass over it).
  int64_t train_size = 0;
};

// The shard of worker `worker` of `train.workers`: bit for bit the rows
// of LoadTrainingData's training split that MakePartition gives it. From a
// cache only the shard's rows (and the labels, for the partition) are
// copied. Returns the loader's and the partition's errors, and
// InvalidArgument for a worker id outside [0, workers).
StatusOr<WorkerData> LoadWorkerShard(const TrainOptions& train, int worker);

// What the server needs: the data it evaluates the anchor on and the size
// of the training split, not the training split itself.
struct EvaluationData {
  // The test split, standardised as the run says (by the training split's
  // statistics).
  data::Dataset test;
  // Examples in the whole training split (an epoch is a pass over it).
  int64_t train_size = 0;
};

// LoadTrainingData's test split, bit for bit; from a cache only the test
// rows are copied. Returns the loader's errors.
StatusOr<EvaluationData> LoadEvaluationData(const TrainOptions& train);

}  // namespace anchorage::config
