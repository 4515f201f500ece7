// The server's side of a codec whose messages are not decoded one at a
// time but decided on the whole round (Codec::NewRoundProtocol): the
// sketched codecs of ALGORITHMS.md 4 sum every contributor's sketch and
// turn the sum into one k-sparse update; Sketched SGD first asks every
// contributor for its exact values at candidate coordinates (a second
// round) and tells them which coordinates the round applied; its exact
// global top-k control sums the exact vectors and tells the applied
// coordinates with no second round.
//
// One round:
//   Begin();
//   AddMessage(push payload) per contributor;
//   if asks_values(): Candidates() to every contributor, AddValues(reply)
//                     per answer;
//   Finish(scale, &indices, &values) -> the round's update, in the units
//                     of the messages and summed over the contributors, as a
//                     round of dense messages would be (the caller divides
//                     by their number and applies its learning rate);
//   if tells_applied(): the caller sends those indices to the contributors
//                     whose exact values the round summed.
//
// Save/Load carry the whole state (the round in progress and anything kept
// across rounds, such as FetchSGD's momentum and error sketches), so a
// round can resume in another process. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/status.h"

namespace anchorage::codec {

// What Finish needs to know about the round that the messages do not say.
struct RoundScale {
  // The contributors whose messages the round summed, >= 1.
  int contributors = 1;
  // γ, what turns the messages' units into the model's, > 0: the learning
  // rate of the round for gradients, 1 for pseudo-gradients Δ = base − x,
  // which carry the workers' learning rate already.
  double learning_rate = 1.0;
};

class RoundProtocol {
 public:
  virtual ~RoundProtocol() = default;

  // Starts a round, clearing what the previous one summed.
  virtual void Begin() = 0;
  // Adds a contributor's message. DataLoss or InvalidArgument naming the
  // problem (malformed, another shape or seed), the round unchanged.
  virtual Status AddMessage(std::span<const uint8_t> bytes) = 0;

  // The norm of the vector a contributor's message stands for (an
  // estimate from a sketch), checked against the contribution bound before
  // AddMessage; infinity when a value is not finite. AddMessage's errors
  // for malformed bytes.
  virtual StatusOr<double> MessageNorm(
      std::span<const uint8_t> bytes) const = 0;

  // Whether the round asks every contributor for exact values before it
  // finishes.
  virtual bool asks_values() const = 0;
  // Whether the round tells the contributors whose exact values it summed
  // (those that answered its question, or with no question every
  // contributor) the coordinates it applied, where their error feedback
  // clears. By default, the rounds that ask values.
  virtual bool tells_applied() const { return asks_values(); }
  // asks_values(): the coordinates to ask about (increasing). The first
  // call ends AddMessage's phase.
  virtual const std::vector<uint32_t>& Candidates() = 0;
  // asks_values(): adds a contributor's values at the candidates
  // (little-endian f32 in the candidates' order). DataLoss naming the
  // problem, nothing added.
  virtual Status AddValues(std::span<const uint8_t> bytes) = 0;

  // Ends the round: replaces *indices (increasing) and *values with its
  // k-sparse update in the messages' units, summed over the contributors.
  // A protocol that keeps state across rounds (FetchSGD) uses `scale` to
  // keep that state in the model's units, per contributor, whatever the
  // number of contributors and the learning rate of each round.
  virtual void Finish(const RoundScale& scale, std::vector<uint32_t>* indices,
                      std::vector<float>* values) = 0;

  // The whole state, and its restoration into a protocol made by the same
  // codec (DataLoss naming the problem, the state then unspecified).
  virtual void Save(ByteWriter* out) const = 0;
  virtual Status Load(ByteReader* in) = 0;
};

}  // namespace anchorage::codec
