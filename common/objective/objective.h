// Objective: a distributed objective F(x) = (1/m) Σ_i F_i(x) over m workers,
// for checking local SGD, minibatch SGD and their relatives against theory
// (shared/ALGORITHMS.md section 2). Worker i sees only F_i, through stochastic
// gradients. Gradient noise is drawn from the caller's generator, so a
// simulation controls and can replay every noise stream.
//
// Templated on the scalar so that theory checks run in double while the same
// code runs in float, the type of Anchorage's tensors; instantiated for float
// and double only.
//
// Thread-compatible: implementations are immutable after construction, so
// concurrent calls are safe as long as each thread uses its own generator.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

namespace anchorage::objective {

template <typename Scalar>
class Objective {
 public:
  virtual ~Objective() = default;

  // Returns the number of coordinates of x.
  virtual int64_t dim() const = 0;
  // Returns m, the number of workers F is averaged over.
  virtual int num_workers() const = 0;

  // Writes a stochastic gradient of F_worker at x into `grad` (overwritten),
  // using `rng` for the noise, and returns F_worker(x) without noise. Each
  // implementation documents exactly what it draws from `rng`. `worker` must
  // be in [0, num_workers()) and `x` and `grad` must hold dim() values;
  // anything else is a programming error and aborts.
  virtual Scalar StochasticGradient(int worker, std::span<const Scalar> x,
                                    std::mt19937_64& rng,
                                    std::span<Scalar> grad) const = 0;

  // Returns F(x), the mean of F_i(x) over workers, without noise. `x` must
  // hold dim() values.
  virtual Scalar Loss(std::span<const Scalar> x) const = 0;

  // Returns the minimiser of F if it is known in closed form (quadratics),
  // else empty.
  virtual std::optional<std::vector<Scalar>> Minimizer() const {
    return std::nullopt;
  }
};

extern template class Objective<float>;
extern template class Objective<double>;

}  // namespace anchorage::objective
