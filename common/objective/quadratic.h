// Quadratic: the diagonal heterogeneous quadratic
//   F_i(x) = Σ_j a_ij / 2 · (x_j − b_ij)²,
// whose d = 1 case is the F_m(x) = a_m/2·(x − b_m)² of shared/ALGORITHMS.md
// section 2, where local GD converges to Σ b_m(1−c_m) / Σ(1−c_m) with
// c_m = (1 − η a_m)^K while minibatch GD converges to the minimiser
// Σ a_m b_m / Σ a_m. On quadratics the average of local SGD iterates follows
// SGD with the averaged noise exactly, which makes them the sharpest check.
//
// Thread-compatible: immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "common/base/status.h"
#include "common/objective/objective.h"

namespace anchorage::objective {

template <typename Scalar>
class Quadratic final : public Objective<Scalar> {
 public:
  // Creates F_i(x) = Σ_j a_ij/2 · (x_j − b_ij)² for `num_workers` workers in
  // `dim` dimensions. `a` and `b` are num_workers × dim, row-major
  // (a[i * dim + j]); they are stored as Scalar. Stochastic gradients add
  // noise_std · N(0, I). Returns kInvalidArgument naming the problem unless
  // num_workers >= 1, dim >= 1, num_workers * dim <= 2^31, a and b hold
  // num_workers * dim values, every a_ij is finite and > 0 and every b_ij
  // finite (both after conversion to Scalar), and noise_std is finite and
  // >= 0.
  static StatusOr<std::unique_ptr<Quadratic>> Create(int num_workers,
                                                     int64_t dim,
                                                     std::vector<double> a,
                                                     std::vector<double> b,
                                                     double noise_std);

  int64_t dim() const override { return dim_; }
  int num_workers() const override { return num_workers_; }

  // Writes grad[j] = a_ij (x_j − b_ij) + Scalar(noise_std · z_j) for worker
  // i and returns F_i(x); the product noise_std · z_j is formed in double,
  // the rest in Scalar. The noise comes from a std::normal_distribution<double>
  // with mean 0 and standard deviation 1 constructed afresh in each call:
  // z_0, ..., z_{dim-1} are its first dim() draws from `rng`, in coordinate
  // order, and any value it keeps for a later draw is discarded with it. So
  // equal generators replay a noise stream exactly, and a simulation can
  // reproduce the noise itself with such a distribution. With
  // noise_std == 0 nothing is drawn from `rng`.
  Scalar StochasticGradient(int worker, std::span<const Scalar> x,
                            std::mt19937_64& rng,
                            std::span<Scalar> grad) const override;

  Scalar Loss(std::span<const Scalar> x) const override;

  // Returns x* with x*_j = Σ_i a_ij b_ij / Σ_i a_ij (computed in double), the
  // zero of the mean gradient.
  std::optional<std::vector<Scalar>> Minimizer() const override;

  // Returns the curvatures a and the centres b, num_workers × dim,
  // row-major, as stored.
  std::span<const Scalar> a() const { return a_; }
  std::span<const Scalar> b() const { return b_; }
  double noise_std() const { return noise_std_; }

 private:
  Quadratic(int num_workers, int64_t dim, std::vector<Scalar> a,
            std::vector<Scalar> b, double noise_std);

  // Returns F_worker(x), noise-free.
  Scalar WorkerLoss(int worker, std::span<const Scalar> x) const;

  int num_workers_;
  int64_t dim_;
  std::vector<Scalar> a_;
  std::vector<Scalar> b_;
  double noise_std_;
};

// Returns a seeded random heterogeneous instance: a_ij ~ U[a_min, a_max] and
// b_ij = heterogeneity · z_ij with z_ij ~ N(0, 1), so b_ij ~
// N(0, heterogeneity²). a and z come from separate generators derived from
// `seed`, so instances with the same seed and different heterogeneity share
// a and differ only in the spread of b. heterogeneity = 0 makes every row of
// b zero: the workers share their minimiser (zero gradient dissimilarity at
// x*), and with a_min == a_max they are identical. Returns kInvalidArgument
// unless 0 < a_min <= a_max (finite), heterogeneity is finite and >= 0, and
// the arguments pass Quadratic::Create.
template <typename Scalar>
StatusOr<std::unique_ptr<Quadratic<Scalar>>> MakeRandomQuadratic(
    int num_workers, int64_t dim, double a_min, double a_max,
    double heterogeneity, double noise_std, uint64_t seed);

extern template class Quadratic<float>;
extern template class Quadratic<double>;

}  // namespace anchorage::objective
