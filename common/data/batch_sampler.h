// Draws fixed-size minibatches from one worker's shard of a dataset.
//
// Not thread-safe: each worker thread owns its own sampler.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/data/dataset.h"
#include "common/tensor/tensor.h"

namespace anchorage::data {

// Samples minibatches without replacement from the rows `indices` of a
// dataset. The shard is reshuffled (from `seed`) at the start of every epoch;
// a batch never spans two epochs: when fewer than batch_size() examples
// remain in an epoch they are dropped and a new epoch starts. When the shard
// is smaller than the requested batch size, every batch is the whole shard.
class BatchSampler {
 public:
  // Samples rows `indices` of `dataset`, which must outlive the sampler.
  // `indices` must be non-empty and index rows of `dataset`, and
  // `batch_size` must be >= 1; violations abort (ANCHORAGE_CHECK).
  BatchSampler(const Dataset* dataset, std::vector<int64_t> indices,
               int batch_size, uint64_t seed);

  // Fills `*x` (resized to batch_size() x dim) with the next batch's feature
  // rows and `*labels` with their labels. Reuses the storage of both, so
  // calls after the first do not allocate.
  void Next(RowMatrix* x, std::vector<int32_t>* labels);

  // Returns the number of completed passes over the shard.
  int64_t epoch() const { return epoch_; }
  int64_t shard_size() const { return static_cast<int64_t>(order_.size()); }
  // Returns the effective batch size, min(requested batch size, shard size).
  int batch_size() const { return batch_size_; }

 private:
  const Dataset* dataset_;
  std::vector<int64_t> order_;  // the shard, in this epoch's order
  int batch_size_;
  std::mt19937_64 rng_;
  int64_t position_ = 0;  // next unused entry of order_ in this epoch
  int64_t epoch_ = 0;
};

}  // namespace anchorage::data
