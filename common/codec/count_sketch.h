// CountSketch: the linear sketch of Charikar, Chen and Farach-Colton (2002)
// behind Sketched SGD and FetchSGD (ALGORITHMS.md 4). A table S of r rows by
// c columns of float32 summarises vectors of dimension d; row j has a bucket
// hash h_j: [d] -> [c] and a sign hash s_j: [d] -> {+1, -1}. Inserting g adds
// s_j(i) g_i to S[j, h_j(i)] for every row j and coordinate i, so
// S(a) + S(b) = S(a + b), and sketches of the same shape and seed are summed
// cell by cell. The estimate of g_i is the median over the rows of
// s_j(i) S[j, h_j(i)] (for even r, the mean of the two middle values).
//
// Hashes. They depend only on (seed, j, i), through 32- and 64-bit integer
// arithmetic, so every machine builds the same functions:
//   t_j    = the low 32 bits of MixSeed(seed, j)     (common/base/seed.h)
//   z      = fmix32(i ^ t_j), MurmurHash3's finaliser:
//            z ^= z >> 16; z *= 0x85ebca6b; z ^= z >> 13; z *= 0xc2b2ae35;
//            z ^= z >> 16                                   (all mod 2^32)
//   h_j(i) = (z * c) >> 32, with a 64-bit product
//   s_j(i) = -1 if z is odd, else +1
// A 32-bit hash keeps the per-coordinate work in vectorisable 32-bit lanes;
// it is why dim < 2^32.
//
// Wire layout of a serialised sketch (little-endian):
//   offset 0   u8   0x53 ('S'): magic and format version 1
//   offset 1   u8   r, rows, in [1, 15]
//   offset 2   u64  c, columns, >= 1, r * c <= 2^31
//   offset 10  u64  d, dimension, in [1, 2^32)
//   offset 18  u64  seed
//   offset 26  r * c f32 cells, row-major (cell (j, b) at 26 + 4 (j c + b)),
//              all finite
// A serialised sketch is 26 + 4 r c bytes, whatever d is.
//
// Cost: Insert and EstimateAll do r d hash evaluations and r d scattered
// updates or gathers, in blocks that need no allocation; HeavyHitters adds an
// O(d) selection. The sketch itself holds r c floats.
//
// Thread-safety: const methods may run concurrently; anything else needs
// exclusive access.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/status.h"

namespace anchorage::codec {

// The parameters that must agree for two sketches to be summed.
// Columns and dim have no useful default: a shape must set them.
struct SketchShape {
  int rows = 5;         // r; 5 is the usual choice (Ivkin et al. 2019)
  int64_t columns = 0;  // c
  int64_t dim = 0;      // d, the dimension of the sketched vectors
  uint64_t seed = 0;    // the hash seed

  bool operator==(const SketchShape&) const = default;
};

class CountSketch {
 public:
  static constexpr uint8_t kMagic = 0x53;
  static constexpr size_t kHeaderBytes = 26;
  static constexpr int kMaxRows = 15;

  // A zero table. `shape` must pass ValidateShape (checked; a failure
  // aborts).
  explicit CountSketch(const SketchShape& shape);

  // Returns InvalidArgument naming the first field out of range: rows in
  // [1, 15], columns >= 1, rows * columns <= 2^31, dim in [1, 2^32).
  static Status ValidateShape(const SketchShape& shape);

  // Returns the shape in the header of the serialised sketch `bytes` (at any
  // address), after checking the magic, that the shape passes ValidateShape
  // and that `bytes` has the size that shape implies; the cells are not
  // read. Returns DataLoss naming the problem otherwise.
  static StatusOr<SketchShape> PeekShape(std::span<const uint8_t> bytes);

  // The norm of the vector the serialised sketch `bytes` summarises,
  // estimated as the median over rows of each row's L2 norm (a row holds
  // every coordinate once, with a random sign, so its squared norm is an
  // unbiased estimate of the vector's); infinity when a cell is not
  // finite. PeekShape's errors for malformed bytes.
  static StatusOr<double> SerializedNorm(std::span<const uint8_t> bytes);

  // Returns the bytes of a serialised sketch of `shape`.
  static size_t SerializedSize(const SketchShape& shape);

  const SketchShape& shape() const { return shape_; }

  // Sets every cell to zero.
  void Clear();

  // Adds S(values); values.size() must be dim (checked).
  void Insert(std::span<const float> values);

  // Adds S(x) for the sparse x with x[indices[n]] = values[n] (repeated
  // indices add up). Sizes must match and indices be < dim (checked).
  void InsertSparse(std::span<const uint32_t> indices,
                    std::span<const float> values);

  // Sets to zero every cell (j, h_j(i)) for i in `indices`, in every row.
  // Indices must be < dim (checked).
  void ZeroBucketsOf(std::span<const uint32_t> indices);

  // Multiplies every cell by `factor`.
  void Scale(float factor);

  // Adds `weight` times `other`, cell by cell. Returns InvalidArgument,
  // leaving *this unchanged, when the sketches differ in shape ("sketch
  // shapes differ: 5x1000 vs 5x2000", rows x columns of *this, then of
  // `other`), dimension ("sketch dimensions differ: ...") or seed ("sketch
  // hash seeds differ: 7 vs 8").
  Status Merge(const CountSketch& other, float weight = 1.0F);

  // Replaces *out with the serialised sketch (see the file comment).
  // Allocates only when *out must grow.
  void Serialize(std::vector<uint8_t>* out) const;

  // Adds the serialised sketch `bytes` (at any address). Returns DataLoss
  // for a short header, a wrong magic byte, a header shape that fails
  // ValidateShape, a truncated or oversized payload or a non-finite cell,
  // and InvalidArgument (as Merge) for a valid sketch of another shape,
  // dimension or seed. On any error *this is unchanged.
  Status MergeSerialized(std::span<const uint8_t> bytes);

  // The estimate of coordinate i in [0, dim) (checked).
  float Estimate(int64_t i) const;

  // Writes the estimate of every coordinate to `out` (size dim, checked).
  // out[i] equals Estimate(i) bit for bit.
  void EstimateAll(std::span<float> out) const;

  // Returns the `count` coordinates (clamped to [0, dim]) with the largest
  // |estimate|, ties to the lower index, in increasing order. Allocates a
  // dim-float scratch; EstimateAll into a kept buffer followed by
  // LargestMagnitudes does the same without it.
  std::vector<uint32_t> HeavyHitters(int64_t count) const;

  // The cells, row-major: cell (j, b) is table()[j * columns + b].
  std::span<const float> table() const { return table_; }

  // The cells in binary state form, and their restoration into a sketch of
  // the same shape (the reader fails on another cell count or a non-finite
  // cell, leaving the cells unspecified).
  void SaveCells(ByteWriter* out) const;
  void LoadCells(ByteReader* in);

 private:
  SketchShape shape_;
  std::array<uint32_t, kMaxRows> row_seeds_ = {};  // t_j
  std::vector<float> table_;
};

// Replaces *indices with the positions of the `count` entries (clamped to
// [0, values.size()]) of `values` with the largest magnitudes, in increasing
// order; among equal magnitudes the lower positions win, and NaN ranks above
// infinity. values.size() must be < 2^32 (checked). O(values.size()): a
// radix select on the bits of |value| (three histogram passes and one
// selecting pass), with no allocation beyond *indices.
void LargestMagnitudes(std::span<const float> values, int64_t count,
                       std::vector<uint32_t>* indices);

// Sets to zero every entry of `values` that LargestMagnitudes(values, count)
// would not select.
void KeepLargestMagnitudes(std::span<float> values, int64_t count);

}  // namespace anchorage::codec
