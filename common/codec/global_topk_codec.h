// The exact global top-k control of Sketched SGD (Ivkin et al. 2019,
// ALGORITHMS.md 4): Sketched SGD with a perfect sketch, the ideal the count
// sketch approximates (the official code's "trueTopk").
//
// GlobalTopKCodec ("global-topk") keeps Sketched SGD's worker state, a
// momentum u and an error accumulation v (an ErrorAccumulator,
// error_accumulator.h), and sends v itself, densely:
//   Encode(g):  u <- rho u + g;  v <- v + u;  message = v
// The server (GlobalTopKRound) sums the round's messages exactly and
// applies the k coordinates of the sum with the largest magnitudes, with no
// second round; every contributor then calls Applied(those indices), which
// zeroes u and v there. Since the zeroing is the same on every worker, this
// is the same as one momentum and one error accumulation of the summed
// gradients (the official code keeps them on the server) up to float
// rounding. With rho = 0, over any number of rounds, the sums applied plus
// the workers' final v equal the sum of their inputs.
//
// Message layout (little-endian):
//   offset 0   u8   0x47 ('G'): magic and format version 1
//   offset 1   u64  d, the dimension
//   offset 9   d f32, v, all finite
// A message is 9 + 4d bytes: the dense vector, so the control costs as much
// upward as `dense` does; it measures what the sketch's approximation
// costs in accuracy, not a way to save bytes.
//
// Decode: the one-round recovery, as for the sketches (sketch_codec.h): it
// parses a message of this codec's dimension and writes the k coordinates
// of v with the largest |v_i| (ties to the lower index), zeros elsewhere.
// Every malformed message (short, oversized, another magic or dimension, a
// non-finite value) is DataLoss naming the problem.
//
// Encode returns InvalidArgument, with the codec's state unchanged, when
// `values` has the wrong size or a non-finite value, or when u or v would
// overflow float32. It allocates only when *out must grow.
//
// Not thread-safe for Encode and Applied; the const methods may run
// concurrently with each other.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/codec/error_accumulator.h"
#include "common/codec/round_protocol.h"

namespace anchorage::codec {

class GlobalTopKCodec final : public Codec {
 public:
  static constexpr uint8_t kMagic = 0x47;
  static constexpr size_t kHeaderBytes = 9;

  // dim in [1, 2^32) (u32 indices in the applied coordinates), k in
  // [1, dim], momentum in [0, 1): ValidateParams (checked; a failure
  // aborts).
  GlobalTopKCodec(int64_t dim, int64_t k, double momentum);

  // Returns InvalidArgument naming the first parameter out of range.
  static Status ValidateParams(int64_t dim, int64_t k, double momentum);

  // Bytes of a message of dimension `dim`.
  static size_t MessageBytes(int64_t dim) {
    return kHeaderBytes + static_cast<size_t>(dim) * sizeof(float);
  }

  // Parses a message (at any address) of dimension `dim` into `out` (size
  // dim). DataLoss naming the problem: a short or oversized message, a
  // wrong magic byte or dimension, a value that is not finite (`out` is
  // then unspecified).
  static Status ReadMessage(std::span<const uint8_t> bytes,
                            std::span<float> out);

  std::string_view name() const override { return "global-topk"; }
  // "k = K".
  std::string settings() const override;
  int64_t dim() const override { return state_.dim(); }
  int64_t k() const { return k_; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

  // A GlobalTopKRound of this codec's dimension and k.
  std::unique_ptr<RoundProtocol> NewRoundProtocol() const override;

  // v at `indices` (ErrorAccumulator::ExactValues); nobody asks for it in a
  // round, but it is the same state the sketch's second round reads.
  Status ExactValues(std::span<const uint32_t> indices,
                     std::span<float> out) const override {
    return state_.ExactValues(indices, out);
  }
  // Zeroes u and v at `indices` (ErrorAccumulator::Applied).
  Status Applied(std::span<const uint32_t> indices) override {
    return state_.Applied(indices);
  }

  // v and u after the last encode (zeros before it).
  std::span<const float> accumulated() const { return state_.accumulated(); }
  std::span<const float> momentum() const { return state_.momentum(); }

 private:
  int64_t k_;
  ErrorAccumulator state_;
};

// The server's side of a global-topk round (round_protocol.h): Begin(),
// AddMessage(v of worker w) for every contributor, Finish(scale, &indices,
// &sums). The messages are summed exactly, in double; Finish rounds each
// sum once to float and keeps the k coordinates with the largest |sum|
// (ties to the lower index), in increasing index order, with their sums:
// the update in the messages' units, summed over the contributors, as a
// round of dense messages would be. Nothing outlives a round, so `scale`
// is unused. It holds d doubles and d floats.
class GlobalTopKRound final : public RoundProtocol {
 public:
  // dim >= 1 and k in [1, dim] (checked; a failure aborts). The object
  // starts as after Begin().
  GlobalTopKRound(int64_t dim, int64_t k);

  void Begin() override;
  // Adds a contributor's message to the sum. DataLoss naming the problem
  // (GlobalTopKCodec::ReadMessage), the sum then unchanged.
  Status AddMessage(std::span<const uint8_t> bytes) override;
  // ‖v‖ of a message; infinity when a value is not finite; DataLoss for a
  // malformed one.
  StatusOr<double> MessageNorm(std::span<const uint8_t> bytes) const override;

  // No second round, but the contributors learn the applied coordinates.
  bool asks_values() const override { return false; }
  bool tells_applied() const override { return true; }
  // Must not be called (checked).
  const std::vector<uint32_t>& Candidates() override;
  // FailedPrecondition: nothing is asked.
  Status AddValues(std::span<const uint8_t> bytes) override;

  void Finish(const RoundScale& scale, std::vector<uint32_t>* indices,
              std::vector<float>* sums) override;

  // The sum of the round so far.
  void Save(ByteWriter* out) const override;
  Status Load(ByteReader* in) override;

  std::span<const double> sum() const { return sum_; }
  int64_t k() const { return k_; }

 private:
  int64_t k_;
  std::vector<double> sum_;
  std::vector<float> scratch_;  // a message, then the sums as float
};

}  // namespace anchorage::codec
