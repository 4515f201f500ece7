// The worker's state in Sketched SGD (Ivkin et al. 2019, ALGORITHMS.md 4),
// shared by the codecs whose rounds the server decides on the sum of the
// workers' accumulated errors: `sketch` (which sends a count sketch of v)
// and `global-topk` (which sends v itself).
//
// An ErrorAccumulator holds a momentum u and an error accumulation v, d
// floats each, initially 0:
//   Accumulate(g)    u <- rho u + g;  v <- v + u
//   ExactValues(I)   v at the coordinates I (the second round's answer)
//   Applied(I)       u_i <- 0, v_i <- 0 for every i in I, the coordinates
//                    a round applied (error feedback, with the momentum
//                    stopped where the model moved, as the paper does)
// With rho = 0, over any number of rounds, the sum of v at the applied
// coordinates just before each Applied, plus the final v, equals the sum of
// the inputs (up to float rounding).
//
// Errors name the codec the accumulator belongs to ("sketch codec: ...").
// Not thread-safe for Accumulate and Applied; the const methods may run
// concurrently with each other.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace anchorage::codec {

// InvalidArgument "<codec> codec: <what> has N floats, expected <dim>"
// unless size == dim.
Status CheckVectorSize(std::string_view codec, size_t size, int64_t dim,
                       const char* what);

// InvalidArgument naming the first value that is not finite, or OK.
Status CheckAllFinite(std::string_view codec, std::span<const float> values);

class ErrorAccumulator {
 public:
  // `codec` names the owner in errors; dim >= 1 and momentum (rho) in
  // [0, 1) (checked; a failure aborts).
  ErrorAccumulator(std::string_view codec, int64_t dim, double momentum);

  // u <- rho u + g; v <- v + u. Returns InvalidArgument, with u and v
  // unchanged, when `g` has the wrong size or a non-finite value, or when u
  // or v would overflow float32.
  Status Accumulate(std::span<const float> g);

  // Writes v at `indices` to `out` (same size, else InvalidArgument).
  // Returns DataLoss naming the first index >= dim (the indices come from
  // the server); `out` is then unchanged.
  Status ExactValues(std::span<const uint32_t> indices,
                     std::span<float> out) const;

  // Zeroes u and v at `indices`. Returns DataLoss naming the first index
  // >= dim, with nothing zeroed.
  Status Applied(std::span<const uint32_t> indices);

  // v and u (zeros before the first Accumulate).
  std::span<const float> accumulated() const { return accumulated_; }
  std::span<const float> momentum() const { return momentum_; }
  int64_t dim() const { return static_cast<int64_t>(accumulated_.size()); }

 private:
  std::string codec_;
  float rho_;
  std::vector<float> momentum_;     // u
  std::vector<float> accumulated_;  // v
};

}  // namespace anchorage::codec
