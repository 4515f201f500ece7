// Logistic: per-worker binary logistic regression without intercept (append
// a constant feature for one),
//   F_i(x) = (1/n_i) Σ_k [log(1 + exp(x·f_ik)) − y_ik x·f_ik] + l2/2 ||x||²,
// with worker i holding n_i examples f_ik and labels y_ik in {0, 1}: the
// convex, non-quadratic objective of Woodworth et al. (2020)'s comparison of
// local and minibatch SGD (shared/ALGORITHMS.md section 2).
//
// Thread-compatible: immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "common/base/status.h"
#include "common/objective/objective.h"

namespace anchorage::objective {

template <typename Scalar>
class Logistic final : public Objective<Scalar> {
 public:
  // Creates the objective of features.size() workers: worker i holds
  // n_i = labels[i].size() examples, features[i] is n_i × dim row-major.
  // Features are stored as Scalar. Stochastic gradients average over
  // `batch_size` examples; `l2` is the ridge coefficient. Returns
  // kInvalidArgument naming the problem (and the worker) unless there is at
  // least one worker, labels and features have one entry per worker, dim >= 1,
  // every worker has n_i >= 1 examples and n_i * dim features, all finite in
  // Scalar, every label is 0 or 1, batch_size >= 1 and l2 is finite and >= 0.
  static StatusOr<std::unique_ptr<Logistic>> Create(
      std::vector<std::vector<double>> features,
      std::vector<std::vector<int>> labels, int64_t dim, int batch_size,
      double l2);

  int64_t dim() const override { return dim_; }
  int num_workers() const override { return static_cast<int>(shards_.size()); }

  // Writes the gradient of worker i's regularised log-loss over a minibatch
  // into `grad` and returns F_i(x) over all n_i examples. When
  // batch_size < n_i the minibatch is batch_size examples sampled with
  // replacement: each call constructs a
  // std::uniform_int_distribution<int64_t>(0, n_i − 1) and draws batch_size
  // indices from `rng` with it. When batch_size >= n_i the gradient is the
  // exact full-batch gradient and nothing is drawn from `rng`.
  Scalar StochasticGradient(int worker, std::span<const Scalar> x,
                            std::mt19937_64& rng,
                            std::span<Scalar> grad) const override;

  Scalar Loss(std::span<const Scalar> x) const override;

  // Returns the fraction of all workers' examples, pooled, that the linear
  // classifier "label 1 iff x·f > 0" labels correctly.
  double Accuracy(std::span<const Scalar> x) const;

  int batch_size() const { return batch_size_; }
  double l2() const { return l2_; }
  // Returns n_i, the number of examples worker `worker` holds.
  int64_t num_examples(int worker) const;

 private:
  // One worker's examples: features n × dim row-major, labels as 0 / 1
  // Scalars. Plain vectors rather than Eigen types, so that the class layout
  // and its allocations do not depend on the includer's vectorisation flags.
  struct Shard {
    int64_t size = 0;
    std::vector<Scalar> features;
    std::vector<Scalar> labels;
  };

  Logistic(std::vector<Shard> shards, int64_t dim, int batch_size, double l2);

  // Returns F_worker(x) given the margins z = features · x of its examples.
  Scalar WorkerLoss(const Shard& shard, std::span<const Scalar> margins,
                    std::span<const Scalar> x) const;

  std::vector<Shard> shards_;
  int64_t dim_;
  int batch_size_;
  double l2_;
};

// Returns a seeded heterogeneous instance with `examples_per_worker` examples
// per worker: worker i's features are N(μ_i, I) with a worker mean
// μ_i ~ N(0, heterogeneity² I), and every label is 1 iff w*·f > 0 for one
// teacher w* shared by all workers (uniform on the unit sphere), then flipped
// with probability `label_noise`. heterogeneity = 0 gives every worker the
// same distribution; larger values shift both where a worker's features lie
// and its balance of labels. Worker i's data derives from `seed` and i only,
// so it does not depend on num_workers. Returns kInvalidArgument unless
// num_workers >= 1, dim >= 1, examples_per_worker >= 1,
// num_workers * examples_per_worker * dim <= 2^31, heterogeneity is finite
// and >= 0, 0 <= label_noise < 0.5, and batch_size and l2 pass
// Logistic::Create.
template <typename Scalar>
StatusOr<std::unique_ptr<Logistic<Scalar>>> MakeRandomLogistic(
    int num_workers, int64_t dim, int examples_per_worker, double heterogeneity,
    double label_noise, int batch_size, double l2, uint64_t seed);

extern template class Logistic<float>;
extern template class Logistic<double>;

}  // namespace anchorage::objective
