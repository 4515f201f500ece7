#include "common/objective/quadratic.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/base/check.h"
#include "common/base/seed.h"
#include "common/base/status.h"

namespace anchorage::objective {
namespace {

// Stream tags: a and b of a random instance come from separate generators,
// so changing the heterogeneity leaves a unchanged.
constexpr uint64_t kCurvatureStream = 1;
constexpr uint64_t kCentreStream = 2;

// Upper bound on num_workers * dim, so a typo in a size cannot exhaust
// memory.
constexpr int64_t kMaxValues = int64_t{1} << 31;

// Converts `values` to Scalar, returning kInvalidArgument naming `name`, the
// index and the value for the first value that is not finite as a Scalar, or
// (when `positive`) not > 0 as a Scalar.
template <typename Scalar>
StatusOr<std::vector<Scalar>> ToScalars(const std::vector<double>& values,
                                        const char* name, bool positive) {
  std::vector<Scalar> out(values.size());
  for (size_t k = 0; k < values.size(); ++k) {
    out[k] = static_cast<Scalar>(values[k]);
    if (!std::isfinite(out[k]) || (positive && !(out[k] > 0))) {
      return Status::InvalidArgument(std::string("quadratic ") + name + "[" +
                                     std::to_string(k) + "] must be " +
                                     (positive ? "finite and > 0" : "finite") +
                                     " (in the objective's scalar type), got " +
                                     std::to_string(values[k]));
    }
  }
  return out;
}

}  // namespace

template <typename Scalar>
StatusOr<std::unique_ptr<Quadratic<Scalar>>> Quadratic<Scalar>::Create(
    int num_workers, int64_t dim, std::vector<double> a, std::vector<double> b,
    double noise_std) {
  if (num_workers < 1) {
    return Status::InvalidArgument("quadratic num_workers must be >= 1, got " +
                                   std::to_string(num_workers));
  }
  if (dim < 1) {
    return Status::InvalidArgument("quadratic dim must be >= 1, got " +
                                   std::to_string(dim));
  }
  if (dim > kMaxValues / num_workers) {
    return Status::InvalidArgument(
        "quadratic num_workers * dim must be <= 2^31, got " +
        std::to_string(num_workers) + " * " + std::to_string(dim));
  }
  const auto size = static_cast<size_t>(num_workers * dim);
  if (a.size() != size || b.size() != size) {
    return Status::InvalidArgument(
        "quadratic a and b must hold num_workers * dim = " +
        std::to_string(size) + " values, got " + std::to_string(a.size()) +
        " and " + std::to_string(b.size()));
  }
  if (!std::isfinite(noise_std) || noise_std < 0.0) {
    return Status::InvalidArgument(
        "quadratic noise_std must be finite and >= 0, got " +
        std::to_string(noise_std));
  }
  StatusOr<std::vector<Scalar>> a_scalar = ToScalars<Scalar>(a, "a", true);
  if (!a_scalar.ok()) return a_scalar.status();
  StatusOr<std::vector<Scalar>> b_scalar = ToScalars<Scalar>(b, "b", false);
  if (!b_scalar.ok()) return b_scalar.status();
  return std::unique_ptr<Quadratic>(
      new Quadratic(num_workers, dim, std::move(a_scalar).value(),
                    std::move(b_scalar).value(), noise_std));
}

template <typename Scalar>
Quadratic<Scalar>::Quadratic(int num_workers, int64_t dim,
                             std::vector<Scalar> a, std::vector<Scalar> b,
                             double noise_std)
    : num_workers_(num_workers),
      dim_(dim),
      a_(std::move(a)),
      b_(std::move(b)),
      noise_std_(noise_std) {}

template <typename Scalar>
Scalar Quadratic<Scalar>::WorkerLoss(int worker,
                                     std::span<const Scalar> x) const {
  const auto row = static_cast<size_t>(worker) * static_cast<size_t>(dim_);
  Scalar loss = 0;
  for (size_t j = 0; j < x.size(); ++j) {
    const Scalar diff = x[j] - b_[row + j];
    loss += a_[row + j] * diff * diff;
  }
  return loss / 2;
}

template <typename Scalar>
Scalar Quadratic<Scalar>::StochasticGradient(int worker,
                                             std::span<const Scalar> x,
                                             std::mt19937_64& rng,
                                             std::span<Scalar> grad) const {
  ANCHORAGE_CHECK(worker >= 0 && worker < num_workers_,
                  "Quadratic::StochasticGradient: worker out of range");
  ANCHORAGE_CHECK(static_cast<int64_t>(x.size()) == dim_ &&
                      static_cast<int64_t>(grad.size()) == dim_,
                  "Quadratic::StochasticGradient: x or grad size != dim");
  const auto row = static_cast<size_t>(worker) * static_cast<size_t>(dim_);
  for (size_t j = 0; j < x.size(); ++j) {
    grad[j] = a_[row + j] * (x[j] - b_[row + j]);
  }
  if (noise_std_ != 0.0) {
    std::normal_distribution<double> normal(0.0, 1.0);
    for (size_t j = 0; j < grad.size(); ++j) {
      grad[j] += static_cast<Scalar>(noise_std_ * normal(rng));
    }
  }
  return WorkerLoss(worker, x);
}

template <typename Scalar>
Scalar Quadratic<Scalar>::Loss(std::span<const Scalar> x) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(x.size()) == dim_,
                  "Quadratic::Loss: x size != dim");
  Scalar total = 0;
  for (int i = 0; i < num_workers_; ++i) {
    total += WorkerLoss(i, x);
  }
  return total / static_cast<Scalar>(num_workers_);
}

template <typename Scalar>
std::optional<std::vector<Scalar>> Quadratic<Scalar>::Minimizer() const {
  const auto dim = static_cast<size_t>(dim_);
  std::vector<Scalar> minimizer(dim);
  for (size_t j = 0; j < dim; ++j) {
    double weighted = 0.0;
    double weight = 0.0;
    for (size_t i = 0; i < static_cast<size_t>(num_workers_); ++i) {
      const double a = a_[i * dim + j];
      weighted += a * static_cast<double>(b_[i * dim + j]);
      weight += a;
    }
    minimizer[j] = static_cast<Scalar>(weighted / weight);
  }
  return minimizer;
}

template <typename Scalar>
StatusOr<std::unique_ptr<Quadratic<Scalar>>> MakeRandomQuadratic(
    int num_workers, int64_t dim, double a_min, double a_max,
    double heterogeneity, double noise_std, uint64_t seed) {
  if (!std::isfinite(a_min) || !std::isfinite(a_max) || !(a_min > 0.0) ||
      !(a_min <= a_max)) {
    return Status::InvalidArgument(
        "random quadratic needs finite 0 < a_min <= a_max, got a_min = " +
        std::to_string(a_min) + ", a_max = " + std::to_string(a_max));
  }
  if (!std::isfinite(heterogeneity) || heterogeneity < 0.0) {
    return Status::InvalidArgument(
        "random quadratic heterogeneity must be finite and >= 0, got " +
        std::to_string(heterogeneity));
  }
  // Validate the shape before allocating num_workers * dim values.
  if (num_workers < 1 || dim < 1 || dim > kMaxValues / num_workers) {
    return Quadratic<Scalar>::Create(num_workers, dim, {}, {}, noise_std);
  }
  const auto size = static_cast<size_t>(num_workers * dim);
  std::vector<double> a(size);
  std::vector<double> b(size);
  std::mt19937_64 curvature_rng(MixSeed(seed, kCurvatureStream));
  std::uniform_real_distribution<double> uniform(a_min, a_max);
  for (double& value : a) {
    value = uniform(curvature_rng);
  }
  // Standard normal draws scaled, rather than N(0, heterogeneity²) directly:
  // the standard library requires a positive standard deviation.
  std::mt19937_64 centre_rng(MixSeed(seed, kCentreStream));
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double& value : b) {
    value = heterogeneity * normal(centre_rng);
  }
  return Quadratic<Scalar>::Create(num_workers, dim, std::move(a), std::move(b),
                                   noise_std);
}

template class Quadratic<float>;
template class Quadratic<double>;
template StatusOr<std::unique_ptr<Quadratic<float>>> MakeRandomQuadratic<float>(
    int, int64_t, double, double, double, double, uint64_t);
template StatusOr<std::unique_ptr<Quadratic<double>>>
MakeRandomQuadratic<double>(int, int64_t, double, double, double, double,
                            uint64_t);

}  // namespace anchorage::objective
