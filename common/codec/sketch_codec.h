// The worker side of Sketched SGD (Ivkin et al. 2019) and FetchSGD
// (Rothchild et al. 2020), ALGORITHMS.md 4: codecs whose message is a count
// sketch (count_sketch.h, 26 + 4 r c bytes, whatever the dimension d).
//
// SketchCodec ("sketch") keeps a momentum u and an error accumulation v, d
// floats each, initially 0 (an ErrorAccumulator, error_accumulator.h).
// Encode(g) does
//   u <- rho u + g;  v <- v + u;  message = S(v)
// The server (SketchedSgdRound, sketch_round.h) sums the workers' sketches,
// takes the P k heavy hitters of the sum as candidates, sums the workers'
// ExactValues(candidates) and keeps the k candidates with the largest exact
// sums; each worker then calls Applied(those indices), which zeroes u and v
// there. With rho = 0, over any number of rounds, the sum of a worker's
// exact values at the applied indices plus its final v equals the sum of its
// inputs (up to float rounding).
//
// FetchSgdCodec ("fetchsgd") is stateless: Encode(g) sends S(g), and the
// server (FetchSgdServer) keeps momentum and error in sketch space.
//
// Both codecs' NewRoundProtocol() is that server side.
//
// Decode (both): the one-round recovery. It parses a sketch of this codec's
// shape, dimension and seed and writes zeros, then the sketch's estimates at
// the k coordinates with the largest |estimate| (ties to the lower index).
// It returns DataLoss for malformed bytes and InvalidArgument for a sketch
// of another shape, dimension or seed, with CountSketch::MergeSerialized's
// message prefixed by the codec name. Being const, it allocates the r x c
// table per call.
//
// Encode returns InvalidArgument, with the codec's state unchanged, when
// `values` has the wrong size or a non-finite value, or (SketchCodec) when
// u or v would overflow float32. It allocates only when *out must grow.
//
// Not thread-safe for Encode and Applied; the const methods may run
// concurrently with each other.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"
#include "common/codec/count_sketch.h"
#include "common/codec/error_accumulator.h"

namespace anchorage::codec {

class SketchCodec final : public Codec {
 public:
  // The parameters must pass ValidateParams (checked; a failure aborts).
  // shape.dim is the codec's dimension; k the coordinates a round applies;
  // candidates_factor is P; momentum is rho.
  SketchCodec(const SketchShape& shape, int64_t k, int candidates_factor,
              double momentum);

  // Returns InvalidArgument naming the first parameter out of range: the
  // shape (CountSketch::ValidateShape), k in [1, dim], candidates_factor
  // >= 1, momentum in [0, 1).
  static Status ValidateParams(const SketchShape& shape, int64_t k,
                               int candidates_factor, double momentum);

  std::string_view name() const override { return "sketch"; }
  // "r x c, k, P, seed".
  std::string settings() const override;
  int64_t dim() const override { return shape_.dim; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

  // A SketchedSgdRound of this codec's shape, k and P.
  std::unique_ptr<RoundProtocol> NewRoundProtocol() const override;

  // Writes v at `indices` to `out` (same size, else InvalidArgument).
  // Returns DataLoss naming the first index >= dim (the indices come from
  // the server); `out` is then unchanged.
  Status ExactValues(std::span<const uint32_t> indices,
                     std::span<float> out) const override;

  // Zeroes u and v at `indices`, the coordinates a round applied. Returns
  // DataLoss naming the first index >= dim, with nothing zeroed.
  Status Applied(std::span<const uint32_t> indices) override;

  // v and u after the last encode (zeros before it).
  std::span<const float> accumulated() const { return state_.accumulated(); }
  std::span<const float> momentum() const { return state_.momentum(); }

  const SketchShape& shape() const { return shape_; }
  int64_t k() const { return k_; }
  int candidates_factor() const { return candidates_factor_; }

 private:
  SketchShape shape_;
  int64_t k_;
  int candidates_factor_;
  ErrorAccumulator state_;  // u and v
  CountSketch sketch_;      // S(v) of the encode in progress
};

class FetchSgdCodec final : public Codec {
 public:
  // The parameters must pass ValidateParams (checked; a failure aborts).
  // `momentum` is the server's rho in sketch space, in [0, 1) (checked).
  FetchSgdCodec(const SketchShape& shape, int64_t k, double momentum);

  // Returns InvalidArgument naming the first parameter out of range: the
  // shape (CountSketch::ValidateShape) or k outside [1, dim].
  static Status ValidateParams(const SketchShape& shape, int64_t k);

  std::string_view name() const override { return "fetchsgd"; }
  // "r x c, k, seed".
  std::string settings() const override;
  int64_t dim() const override { return shape_.dim; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

  // A FetchSgdServer of this codec's shape, k and momentum.
  std::unique_ptr<RoundProtocol> NewRoundProtocol() const override;

  const SketchShape& shape() const { return shape_; }
  int64_t k() const { return k_; }

 private:
  SketchShape shape_;
  int64_t k_;
  double momentum_;
  CountSketch sketch_;  // S(g) of the encode in progress
};

}  // namespace anchorage::codec
