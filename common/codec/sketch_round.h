// The server side of Sketched SGD and FetchSGD (ALGORITHMS.md 4), as pure
// state machines over the workers' messages: no sockets, no locks, no
// round numbers; both are the RoundProtocol (round_protocol.h) of their
// codec. Each object belongs to one thread.
//
// SketchedSgdRound, one round with the SketchCodec workers (sketch_codec.h):
//   Begin();
//   AddMessage(sketch of worker w), for every worker;
//   Candidates()           -> sent to every worker;
//   AddValues(reply of worker w), for every worker, where the reply is the
//                          worker's ExactValues(candidates) as
//                          candidates.size() little-endian f32;
//   Finish(scale, &indices, &sums) -> the k-sparse update; every worker
//                          then calls SketchCodec::Applied(indices).
//
// FetchSgdServer, one round with the FetchSgdCodec workers: Begin(),
// AddMessage(sketch) for every worker, Finish(scale, &indices, &values).
// Like a round of dense messages, the update is summed over the
// contributors in the messages' units: the caller divides it by their
// number and applies its learning rate (1 for pseudo-gradients).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/base/status.h"
#include "common/codec/count_sketch.h"
#include "common/codec/round_protocol.h"

namespace anchorage::codec {

class SketchedSgdRound final : public RoundProtocol {
 public:
  // `shape` must pass CountSketch::ValidateShape, k be in [1, shape.dim] and
  // candidates_factor >= 1 (checked; a failure aborts). The object starts
  // as after Begin().
  SketchedSgdRound(const SketchShape& shape, int64_t k, int candidates_factor);

  // Starts a round: clears the summed sketch, the candidates and the exact
  // sums.
  void Begin() override;

  // Adds a worker's sketch to the sum. Returns CountSketch::MergeSerialized's
  // errors (DataLoss for malformed bytes, InvalidArgument for another shape,
  // dimension or seed), or FailedPrecondition once Candidates() has run; the
  // sum is then unchanged.
  Status AddMessage(std::span<const uint8_t> bytes) override;
  StatusOr<double> MessageNorm(std::span<const uint8_t> bytes) const override {
    return CountSketch::SerializedNorm(bytes);
  }

  bool asks_values() const override { return true; }

  // The min(P k, dim) coordinates with the largest |estimate| in the summed
  // sketch (ties to the lower index), in increasing order. Computed at the
  // first call of the round, which ends AddSketch's phase.
  const std::vector<uint32_t>& Candidates() override;

  // Adds a worker's exact values at the candidates: candidates.size()
  // little-endian f32 at any address, summed in double. Returns
  // FailedPrecondition before Candidates(), DataLoss for a wrong size or a
  // non-finite value; the sums are then unchanged.
  Status AddValues(std::span<const uint8_t> bytes) override;

  // Replaces *indices and *sums with the k candidates whose exact sums (as
  // float) have the largest magnitudes, ties to the lower index, in
  // increasing index order, and their sums. Candidates() must have run
  // (checked). `scale` is unused: nothing of a round outlives it here (the
  // workers keep the momentum and the error).
  void Finish(const RoundScale& scale, std::vector<uint32_t>* indices,
              std::vector<float>* sums) override;

  void Save(ByteWriter* out) const override;
  Status Load(ByteReader* in) override;

  // The sketch summed so far this round.
  const CountSketch& sum() const { return sum_; }
  int64_t k() const { return k_; }

 private:
  int64_t k_;
  int64_t candidate_count_;  // min(P k, dim)
  CountSketch sum_;
  bool have_candidates_ = false;
  std::vector<uint32_t> candidates_;
  std::vector<double> exact_;   // per candidate
  std::vector<float> scratch_;  // dim estimates, then exact sums
};

class FetchSgdServer final : public RoundProtocol {
 public:
  // `shape` must pass CountSketch::ValidateShape, k be in [1, shape.dim]
  // and momentum (rho) in [0, 1) (checked; a failure aborts). The momentum
  // and error sketches start at zero.
  FetchSgdServer(const SketchShape& shape, int64_t k, double momentum);

  // Starts a round: clears the round's sketch S.
  void Begin() override;

  // Adds a worker's sketch to S. Returns CountSketch::MergeSerialized's
  // errors, with S unchanged.
  Status AddMessage(std::span<const uint8_t> bytes) override;
  StatusOr<double> MessageNorm(std::span<const uint8_t> bytes) const override {
    return CountSketch::SerializedNorm(bytes);
  }

  // FetchSGD has no second round: Candidates() must not be called
  // (checked) and AddValues() is FailedPrecondition.
  bool asks_values() const override { return false; }
  const std::vector<uint32_t>& Candidates() override;
  Status AddValues(std::span<const uint8_t> bytes) override;

  // Ends the round the way the official code does (kiddyboots216/
  // CommEfficient, fed_aggregator.py, _server_helper_sketched with virtual
  // momentum and error), with n = scale.contributors and
  // γ = scale.learning_rate (both checked: n >= 1, γ > 0):
  //   S_u <- rho S_u + S / n       momentum of the mean message
  //   S_e <- S_e + γ S_u           error, in the model's units
  //   g~ = the k coordinates with the largest |estimate| of S_e (ties to
  //        the lower index), valued at their estimates
  //   S_u, S_e <- 0 at every cell (j, h_j(i)) of every i with g~_i != 0
  // and replaces *indices (increasing) with the coordinates of g~ and
  // *values with n g~_i / γ: the update in the messages' units, summed over
  // the contributors (RoundProtocol::Finish), so that the caller's division
  // by n and multiplication by γ move the model by g~.
  //
  // Zeroing, not subtracting S(g~). The cells an applied coordinate hashes
  // to are cleared in both sketches, with whatever other coordinates' mass
  // they held. Subtracting S(g~) from S_e instead (error feedback done
  // literally) diverges: the official code says so beside its zeroing, and
  // here the model blew up within one epoch at 10 columns per applied
  // coordinate. A coordinate with g~_i = 0 (fewer than k nonzero
  // estimates) moves nothing, so its cells keep their error; the official
  // code zeroes the nonzero cells of S(g~), which differs from this only
  // where two applied values cancel exactly in a cell.
  //
  // γ inside the error. S_e accumulates γ_t S_u, so what a round leaves
  // unapplied is applied later at the learning rate of the round it came
  // from: the paper's Algorithm 1 (S_e += η S_u) and error feedback's usual
  // form (e += γ g, apply C(e), keep the rest). The official code keeps S_e
  // in gradient units and multiplies g~ by the current rate instead, which
  // after a step decay applies the error built up before it scaled down by
  // the decay factor (and during warm-up, scaled up). With a constant rate
  // the two are the same run. Pseudo-gradients Δ = base − x carry the
  // workers' learning rate already; for them γ = 1 and S_u is a momentum of
  // displacements.
  //
  // S_u and S_e are per contributor (S / n), so a round closed with fewer
  // contributors (a quorum) does not rescale the error of earlier rounds.
  void Finish(const RoundScale& scale, std::vector<uint32_t>* indices,
              std::vector<float>* values) override;

  // S, S_u and S_e.
  void Save(ByteWriter* out) const override;
  Status Load(ByteReader* in) override;

  const CountSketch& round_sum() const { return round_; }    // S
  const CountSketch& momentum() const { return momentum_; }  // S_u
  const CountSketch& error() const { return error_; }        // S_e
  int64_t k() const { return k_; }

 private:
  int64_t k_;
  float rho_;
  CountSketch round_;
  CountSketch momentum_;
  CountSketch error_;
  std::vector<float> estimates_;  // dim
  std::vector<uint32_t> moved_;   // the coordinates with g~_i != 0
};

}  // namespace anchorage::codec
