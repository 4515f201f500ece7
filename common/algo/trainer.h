// A worker's local training state, free of sockets and clocks: the local
// model x_i, its optimizer and its minibatch stream. Local steps and the pull
// toward the anchor are the whole algorithmic content of a worker; the
// worker service decides when they happen.
//
// Not thread-safe: owned by the worker's compute thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/algo/learner.h"
#include "common/data/batch_sampler.h"
#include "common/model/model.h"
#include "common/optim/sgd.h"
#include "common/tensor/tensor.h"

namespace anchorage::algo {

// The seed of worker `worker_id`'s minibatch stream in a run seeded `seed`:
// distinct per worker, reproducible per run.
inline uint64_t WorkerSeed(uint64_t seed, int worker_id) {
  return seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(worker_id + 1));
}

class Trainer final : public Learner<float> {
 public:
  // Trains `model` from `initial` parameters on the rows `shard` of
  // `dataset`, which must outlive the trainer.
  Trainer(std::unique_ptr<model::Model> model, const data::Dataset* dataset,
          std::vector<int64_t> shard, int batch_size,
          const optim::SgdOptions& sgd, std::span<const float> initial,
          uint64_t seed);

  // One local SGD step on the next minibatch; returns its loss.
  double Step() override;
  double AccumulateGradient(std::span<float> sum) override;

  // x ← (1 − α)·x + α·z. Local momentum buffers are kept.
  void Pull(std::span<const float> anchor, float alpha) override;

  // Replaces the local model (α = 1 without arithmetic).
  void Adopt(std::span<const float> anchor) override;
  void ResetMomentum() override { sgd_.ResetMomentum(); }
  void CatchUpSchedule(int64_t step) override { sgd_.CatchUp(step); }

  std::span<const float> params() const override { return params_; }
  int64_t dim() const override { return static_cast<int64_t>(params_.size()); }
  int64_t steps() const { return sgd_.step(); }
  int batch_size() const override { return sampler_.batch_size(); }
  int64_t shard_size() const { return sampler_.shard_size(); }
  double learning_rate() const override { return sgd_.learning_rate(); }
  model::Model& model() { return *model_; }

 private:
  std::unique_ptr<model::Model> model_;
  data::BatchSampler sampler_;
  optim::Sgd sgd_;
  AlignedVector params_;
  AlignedVector grad_;
  RowMatrix batch_x_;
  std::vector<int32_t> batch_labels_;
};

}  // namespace anchorage::algo
