// The outer update: how the mean of a round's contributions becomes the
// next anchor z. With x̄ the mean of the workers' models (or ḡ the mean
// gradient for minibatch SGD) and γ the base learning rate of the round:
//
//   average (local-sgd, overlap-local-sgd; anchor momentum β, slow lr 1)
//   slowmo:   u ← β·u + (z − x̄)/γ ;  z ← z − α·γ·u
//             (β = 0, α = 1 gives z = x̄: plain averaging)
//   diloco:   Δ = z − x̄ ;  m ← β·m + Δ ;  z ← z − α·(Δ + β·m)   (Nesterov)
//   minibatch-sgd: d = ḡ + wd·z ; v ← μ·v + d ;
//             z ← z − γ·(nesterov ? d + μ·v : v)
//
// Templated on the scalar so theory checks run the same rule in double.
// Not thread-safe: owned by the aggregator.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/algo/algorithm.h"
#include "common/algo/finite.h"
#include "common/base/bytes.h"

namespace anchorage::algo {

struct OuterOptions {
  Algorithm algorithm = Algorithm::kOverlapLocalSgd;
  // Slow (outer) learning rate: SlowMo's α, DiLoCo's outer lr. 1 for plain
  // averaging.
  double alpha = 1.0;
  // Outer momentum: anchor momentum, SlowMo's β, DiLoCo's Nesterov momentum.
  double beta = 0.0;
  // Minibatch SGD's server optimizer (its learning rate is the γ passed to
  // Apply).
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

template <typename Scalar>
class OuterRule {
 public:
  OuterRule(const OuterOptions& options, int64_t dim);

  // Writes into `next` where `anchor` moves given `target` (the mean
  // contribution) and the round's base learning rate `lr` (γ_t), and keeps
  // the buffer's next value aside. Returns whether `next` and that buffer
  // are all finite; Commit() then makes the buffer current, and without it
  // the rule is unchanged.
  bool Propose(std::span<const Scalar> anchor, std::span<const Scalar> target,
               double lr, std::span<Scalar> next);
  void Commit() { buffer_.swap(next_buffer_); }

  // True when the anchor is exactly the target (β = 0, α = 1 averaging):
  // callers may then skip the buffer.
  bool is_plain_average() const { return plain_average_; }

  // The buffer, and its restoration (the reader fails on another size).
  void Save(ByteWriter* out) const { out->Scalars<Scalar>(buffer_); }
  void Load(ByteReader* in);

 private:
  OuterOptions options_;
  bool plain_average_;
  std::vector<Scalar> buffer_;  // u, m or v
  std::vector<Scalar> next_buffer_;
};

}  // namespace anchorage::algo
