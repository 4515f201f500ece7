#include "common/data/batch_sampler.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/base/check.h"
#include "common/base/seed.h"

namespace anchorage::data {
namespace {

// The sampler's stream of the seed, apart from the partition's and the
// synthetic data's.
constexpr uint64_t kSamplerStream = 200;

}  // namespace

BatchSampler::BatchSampler(const Dataset* dataset, std::vector<int64_t> indices,
                           int batch_size, uint64_t seed)
    : dataset_(dataset),
      order_(std::move(indices)),
      rng_(MixSeed(seed, kSamplerStream)) {
  ANCHORAGE_CHECK(dataset_ != nullptr, "BatchSampler needs a dataset");
  ANCHORAGE_CHECK(!order_.empty(), "BatchSampler needs a non-empty shard");
  ANCHORAGE_CHECK(batch_size >= 1, "BatchSampler batch size must be >= 1");
  for (const int64_t index : order_) {
    ANCHORAGE_CHECK(index >= 0 && index < dataset_->size(),
                    "BatchSampler index outside the dataset");
  }
  ANCHORAGE_CHECK(
      dataset_->labels.size() == static_cast<size_t>(dataset_->size()),
      "BatchSampler dataset has a label count different from its rows");
  batch_size_ = static_cast<int>(std::min<int64_t>(batch_size, shard_size()));
  std::shuffle(order_.begin(), order_.end(), rng_);
}

void BatchSampler::Next(RowMatrix* x, std::vector<int32_t>* labels) {
  const RowMatrix& features = dataset_->features;
  x->resize(batch_size_, features.cols());
  labels->resize(static_cast<size_t>(batch_size_));
  for (int i = 0; i < batch_size_; ++i) {
    const int64_t index = order_[static_cast<size_t>(position_ + i)];
    x->row(i) = features.row(index);
    (*labels)[static_cast<size_t>(i)] =
        dataset_->labels[static_cast<size_t>(index)];
  }
  position_ += batch_size_;
  // Start the next epoch as soon as no full batch is left, so epoch() counts
  // the pass as complete right after its last batch.
  if (position_ + batch_size_ > shard_size()) {
    ++epoch_;
    position_ = 0;
    std::shuffle(order_.begin(), order_.end(), rng_);
  }
}

}  // namespace anchorage::data
