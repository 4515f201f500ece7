#include "common/objective/logistic.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "common/base/check.h"
#include "common/base/seed.h"
#include "common/base/status.h"

namespace anchorage::objective {
namespace {

// Stream tags: the teacher and each worker's data come from separate
// generators, so worker i's data does not depend on num_workers.
constexpr uint64_t kTeacherStream = 1;
constexpr uint64_t kFirstWorkerStream = 2;

// Upper bound on the total number of feature values of a random instance,
// so a typo in a size cannot exhaust memory.
constexpr int64_t kMaxFeatureValues = int64_t{1} << 31;

template <typename Scalar>
using EigenVector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <typename Scalar>
using ConstVectorMap = Eigen::Map<const EigenVector<Scalar>>;
template <typename Scalar>
using VectorMap = Eigen::Map<EigenVector<Scalar>>;
template <typename Scalar>
using ConstRowMatrixMap =
    Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic,
                                   Eigen::RowMajor>>;

template <typename Scalar>
std::span<const Scalar> AsSpan(const EigenVector<Scalar>& vector) {
  return {vector.data(), static_cast<size_t>(vector.size())};
}

// The logistic function, as (1 + tanh(z/2)) / 2 so that no exp overflows.
template <typename Derived>
auto Sigmoid(const Eigen::ArrayBase<Derived>& z) {
  using Scalar = typename Derived::Scalar;
  const auto half = static_cast<Scalar>(0.5);
  return (static_cast<Scalar>(1) + (z * half).tanh()) * half;
}

std::string WorkerPrefix(size_t worker) {
  return "logistic worker " + std::to_string(worker) + ": ";
}

// Checks worker `worker`'s `features` (n × dim, n = labels.size()) and
// `labels` and converts them to Scalar into `*features_out` and
// `*labels_out`. Returns kInvalidArgument naming the worker and the problem.
template <typename Scalar>
Status ConvertWorker(size_t worker, std::vector<double> features,
                     const std::vector<int>& labels, int64_t dim,
                     std::vector<Scalar>* features_out,
                     std::vector<Scalar>* labels_out) {
  const size_t n = labels.size();
  if (n == 0) {
    return Status::InvalidArgument(WorkerPrefix(worker) + "no examples");
  }
  const auto width = static_cast<size_t>(dim);
  if (features.size() / width != n || features.size() % width != 0) {
    return Status::InvalidArgument(
        WorkerPrefix(worker) + "features must hold n_i * dim = " +
        std::to_string(n) + " * " + std::to_string(dim) + " values, got " +
        std::to_string(features.size()));
  }
  labels_out->resize(n);
  for (size_t k = 0; k < n; ++k) {
    if (labels[k] != 0 && labels[k] != 1) {
      return Status::InvalidArgument(
          WorkerPrefix(worker) + "label " + std::to_string(k) +
          " must be 0 or 1, got " + std::to_string(labels[k]));
    }
    (*labels_out)[k] = static_cast<Scalar>(labels[k]);
  }
  for (size_t k = 0; k < features.size(); ++k) {
    if (!std::isfinite(static_cast<Scalar>(features[k]))) {
      return Status::InvalidArgument(
          WorkerPrefix(worker) + "feature " + std::to_string(k) +
          " must be finite (in the objective's scalar type), got " +
          std::to_string(features[k]));
    }
  }
  if constexpr (std::is_same_v<Scalar, double>) {
    *features_out = std::move(features);
  } else {
    features_out->assign(features.begin(), features.end());
  }
  return Status::Ok();
}

}  // namespace

template <typename Scalar>
StatusOr<std::unique_ptr<Logistic<Scalar>>> Logistic<Scalar>::Create(
    std::vector<std::vector<double>> features,
    std::vector<std::vector<int>> labels, int64_t dim, int batch_size,
    double l2) {
  if (features.empty()) {
    return Status::InvalidArgument("logistic needs at least one worker");
  }
  if (labels.size() != features.size()) {
    return Status::InvalidArgument(
        "logistic features and labels must have one entry per worker, got " +
        std::to_string(features.size()) + " and " +
        std::to_string(labels.size()));
  }
  if (dim < 1) {
    return Status::InvalidArgument("logistic dim must be >= 1, got " +
                                   std::to_string(dim));
  }
  if (batch_size < 1) {
    return Status::InvalidArgument("logistic batch_size must be >= 1, got " +
                                   std::to_string(batch_size));
  }
  if (!std::isfinite(l2) || l2 < 0.0) {
    return Status::InvalidArgument("logistic l2 must be finite and >= 0, got " +
                                   std::to_string(l2));
  }
  std::vector<Shard> shards(features.size());
  for (size_t i = 0; i < features.size(); ++i) {
    Shard& shard = shards[i];
    shard.size = static_cast<int64_t>(labels[i].size());
    const Status status = ConvertWorker(i, std::move(features[i]), labels[i],
                                        dim, &shard.features, &shard.labels);
    if (!status.ok()) return status;
  }
  return std::unique_ptr<Logistic>(
      new Logistic(std::move(shards), dim, batch_size, l2));
}

template <typename Scalar>
Logistic<Scalar>::Logistic(std::vector<Shard> shards, int64_t dim,
                           int batch_size, double l2)
    : shards_(std::move(shards)), dim_(dim), batch_size_(batch_size), l2_(l2) {}

template <typename Scalar>
int64_t Logistic<Scalar>::num_examples(int worker) const {
  ANCHORAGE_CHECK(worker >= 0 && worker < num_workers(),
                  "Logistic::num_examples: worker out of range");
  return shards_[static_cast<size_t>(worker)].size;
}

template <typename Scalar>
Scalar Logistic<Scalar>::WorkerLoss(const Shard& shard,
                                    std::span<const Scalar> margins,
                                    std::span<const Scalar> x) const {
  // log(1 + e^z) = max(z, 0) + log1p(e^-|z|), which neither overflows nor
  // loses the small values.
  const auto z = ConstVectorMap<Scalar>(margins.data(), shard.size).array();
  const auto y =
      ConstVectorMap<Scalar>(shard.labels.data(), shard.size).array();
  const Scalar log_loss =
      (z.max(static_cast<Scalar>(0)) + (-z.abs()).exp().log1p() - y * z).mean();
  const Scalar squared_norm =
      ConstVectorMap<Scalar>(x.data(), dim_).squaredNorm();
  return log_loss + static_cast<Scalar>(l2_ / 2) * squared_norm;
}

template <typename Scalar>
Scalar Logistic<Scalar>::StochasticGradient(int worker,
                                            std::span<const Scalar> x,
                                            std::mt19937_64& rng,
                                            std::span<Scalar> grad) const {
  ANCHORAGE_CHECK(worker >= 0 && worker < num_workers(),
                  "Logistic::StochasticGradient: worker out of range");
  ANCHORAGE_CHECK(static_cast<int64_t>(x.size()) == dim_ &&
                      static_cast<int64_t>(grad.size()) == dim_,
                  "Logistic::StochasticGradient: x or grad size != dim");
  const Shard& shard = shards_[static_cast<size_t>(worker)];
  const ConstRowMatrixMap<Scalar> features(shard.features.data(), shard.size,
                                           dim_);
  const ConstVectorMap<Scalar> w(x.data(), dim_);
  VectorMap<Scalar> g(grad.data(), dim_);
  const EigenVector<Scalar> margins = features * w;
  // The derivative of example k's log-loss with respect to its margin.
  const EigenVector<Scalar> residuals =
      Sigmoid(margins.array()).matrix() -
      ConstVectorMap<Scalar>(shard.labels.data(), shard.size);
  if (batch_size_ >= shard.size) {
    g.noalias() = features.transpose() * residuals;
    g /= static_cast<Scalar>(shard.size);
  } else {
    std::uniform_int_distribution<int64_t> pick(0, shard.size - 1);
    g.setZero();
    for (int b = 0; b < batch_size_; ++b) {
      const int64_t k = pick(rng);
      g += residuals(k) * features.row(k).transpose();
    }
    g /= static_cast<Scalar>(batch_size_);
  }
  g += static_cast<Scalar>(l2_) * w;
  return WorkerLoss(shard, AsSpan(margins), x);
}

template <typename Scalar>
Scalar Logistic<Scalar>::Loss(std::span<const Scalar> x) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(x.size()) == dim_,
                  "Logistic::Loss: x size != dim");
  const ConstVectorMap<Scalar> w(x.data(), dim_);
  Scalar total = 0;
  for (const Shard& shard : shards_) {
    const EigenVector<Scalar> margins =
        ConstRowMatrixMap<Scalar>(shard.features.data(), shard.size, dim_) * w;
    total += WorkerLoss(shard, AsSpan(margins), x);
  }
  return total / static_cast<Scalar>(shards_.size());
}

template <typename Scalar>
double Logistic<Scalar>::Accuracy(std::span<const Scalar> x) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(x.size()) == dim_,
                  "Logistic::Accuracy: x size != dim");
  const ConstVectorMap<Scalar> w(x.data(), dim_);
  int64_t correct = 0;
  int64_t total = 0;
  for (const Shard& shard : shards_) {
    const EigenVector<Scalar> margins =
        ConstRowMatrixMap<Scalar>(shard.features.data(), shard.size, dim_) * w;
    for (int64_t k = 0; k < shard.size; ++k) {
      const bool predicted = margins(k) > 0;
      if (predicted == (shard.labels[static_cast<size_t>(k)] > 0)) ++correct;
    }
    total += shard.size;
  }
  return static_cast<double>(correct) / static_cast<double>(total);
}

template <typename Scalar>
StatusOr<std::unique_ptr<Logistic<Scalar>>> MakeRandomLogistic(
    int num_workers, int64_t dim, int examples_per_worker, double heterogeneity,
    double label_noise, int batch_size, double l2, uint64_t seed) {
  if (num_workers < 1 || dim < 1 || examples_per_worker < 1) {
    return Status::InvalidArgument(
        "random logistic needs num_workers, dim and examples_per_worker >= 1, "
        "got " +
        std::to_string(num_workers) + ", " + std::to_string(dim) + ", " +
        std::to_string(examples_per_worker));
  }
  const int64_t examples = int64_t{num_workers} * examples_per_worker;
  if (dim > kMaxFeatureValues / examples) {
    return Status::InvalidArgument(
        "random logistic too large: " + std::to_string(examples) +
        " examples of dim " + std::to_string(dim) + " exceed 2^31 values");
  }
  if (!std::isfinite(heterogeneity) || heterogeneity < 0.0) {
    return Status::InvalidArgument(
        "random logistic heterogeneity must be finite and >= 0, got " +
        std::to_string(heterogeneity));
  }
  if (!(label_noise >= 0.0 && label_noise < 0.5)) {
    return Status::InvalidArgument(
        "random logistic label_noise must be in [0, 0.5), got " +
        std::to_string(label_noise));
  }

  const auto d = static_cast<size_t>(dim);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::mt19937_64 teacher_rng(MixSeed(seed, kTeacherStream));
  std::vector<double> teacher(d);
  double norm = 0.0;
  // A standard normal vector is nonzero with probability 1; retry anyway.
  while (!(norm > 0.0)) {
    for (double& value : teacher) {
      value = normal(teacher_rng);
    }
    norm = 0.0;
    for (const double value : teacher) {
      norm += value * value;
    }
  }
  norm = std::sqrt(norm);
  for (double& value : teacher) {
    value /= norm;
  }

  std::vector<std::vector<double>> features(static_cast<size_t>(num_workers));
  std::vector<std::vector<int>> labels(static_cast<size_t>(num_workers));
  std::bernoulli_distribution flip(label_noise);
  for (size_t i = 0; i < features.size(); ++i) {
    std::mt19937_64 rng(MixSeed(seed, kFirstWorkerStream + i));
    normal.reset();
    std::vector<double> mean(d);
    for (double& value : mean) {
      value = heterogeneity * normal(rng);
    }
    features[i].resize(static_cast<size_t>(examples_per_worker) * d);
    labels[i].resize(static_cast<size_t>(examples_per_worker));
    for (size_t k = 0; k < labels[i].size(); ++k) {
      double margin = 0.0;
      for (size_t j = 0; j < d; ++j) {
        const double value = mean[j] + normal(rng);
        features[i][k * d + j] = value;
        margin += teacher[j] * value;
      }
      const bool positive = margin > 0.0;
      labels[i][k] = (positive != flip(rng)) ? 1 : 0;
    }
  }
  return Logistic<Scalar>::Create(std::move(features), std::move(labels), dim,
                                  batch_size, l2);
}

template class Logistic<float>;
template class Logistic<double>;
template StatusOr<std::unique_ptr<Logistic<float>>> MakeRandomLogistic<float>(
    int, int64_t, int, double, double, int, double, uint64_t);
template StatusOr<std::unique_ptr<Logistic<double>>> MakeRandomLogistic<double>(
    int, int64_t, int, double, double, int, double, uint64_t);

}  // namespace anchorage::objective
