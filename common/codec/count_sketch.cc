#include "common/codec/count_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/base/format.h"
#include "common/base/seed.h"

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the sketch wire format is little-endian");

namespace {

constexpr int64_t kMaxCells = int64_t{1} << 31;
constexpr int64_t kMaxDim = int64_t{1} << 32;
// Coordinates hashed per step of Insert's pipeline (see InsertRow).
constexpr size_t kChunk = 16;
// Coordinates per block of EstimateAll: kMaxRows x kBlock floats of stack.
constexpr size_t kBlock = 256;

std::string Dims(const SketchShape& shape) {
  return std::to_string(shape.rows) + "x" + std::to_string(shape.columns);
}

// MurmurHash3's 32-bit finaliser: a bijection with full avalanche.
inline uint32_t Fmix32(uint32_t z) {
  z = (z ^ (z >> 16)) * 0x85ebca6bU;
  z = (z ^ (z >> 13)) * 0xc2b2ae35U;
  return z ^ (z >> 16);
}

// The hash z of coordinate i in the row with seed t_j.
inline uint32_t RowHash(uint32_t i, uint32_t row_seed) {
  return Fmix32(i ^ row_seed);
}

// h_j(i) from z: multiply-shift onto [0, columns), columns <= 2^31.
inline uint32_t Bucket(uint32_t z, uint32_t columns) {
  return static_cast<uint32_t>((uint64_t{z} * columns) >> 32);
}

// s_j(i) * value from z: flips the sign bit when z is odd.
inline float Signed(float value, uint32_t z) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(value) ^ (z << 31));
}

// Orders a <= b without branches (vectorises to min/max).
inline void CompareExchange(float& a, float& b) {
  const float low = b < a ? b : a;
  const float high = b < a ? a : b;
  a = low;
  b = high;
}

// The median of `rows` values sorted in increasing order.
inline float MedianOfSorted(float middle_low, float middle_high, int rows) {
  return rows % 2 == 1 ? middle_high : 0.5F * (middle_low + middle_high);
}

// The buckets of kChunk consecutive coordinates in one row and their values
// times the sign.
struct Chunk {
  uint32_t bucket[kChunk];
  float value[kChunk];
};

void HashChunk(const float* values, size_t begin, uint32_t row_seed,
               uint32_t columns, Chunk* chunk) {
  for (size_t t = 0; t < kChunk; ++t) {
    const uint32_t z = RowHash(static_cast<uint32_t>(begin + t), row_seed);
    chunk->bucket[t] = Bucket(z, columns);
    chunk->value[t] = Signed(values[begin + t], z);
  }
}

// Adds s_j(i) values[i] to row[h_j(i)] for every i, in increasing i. The
// hashing of a chunk (vector arithmetic) is issued before the scattered
// additions of the previous one (loads and stores), so the two overlap.
void InsertRow(std::span<const float> values, uint32_t row_seed,
               uint32_t columns, float* row) {
  const size_t full = values.size() / kChunk * kChunk;
  Chunk chunks[2];
  if (full > 0) HashChunk(values.data(), 0, row_seed, columns, &chunks[0]);
  size_t current = 0;
  for (size_t begin = 0; begin < full; begin += kChunk) {
    if (begin + kChunk < full) {
      HashChunk(values.data(), begin + kChunk, row_seed, columns,
                &chunks[current ^ 1]);
    }
    const Chunk& chunk = chunks[current];
    for (size_t t = 0; t < kChunk; ++t) {
      row[chunk.bucket[t]] += chunk.value[t];
    }
    current ^= 1;
  }
  for (size_t i = full; i < values.size(); ++i) {
    const uint32_t z = RowHash(static_cast<uint32_t>(i), row_seed);
    row[Bucket(z, columns)] += Signed(values[i], z);
  }
}

// Cell n of serialised cells at any address (a plain unaligned load).
inline float LoadCell(const uint8_t* cells, size_t n) {
  float cell = 0;
  std::memcpy(&cell, cells + n * sizeof(float), sizeof(float));
  return cell;
}

// The shape in a header of at least kHeaderBytes bytes.
SketchShape ReadHeader(const uint8_t* header) {
  uint64_t columns = 0;
  uint64_t dim = 0;
  uint64_t seed = 0;
  std::memcpy(&columns, header + 2, sizeof(columns));
  std::memcpy(&dim, header + 10, sizeof(dim));
  std::memcpy(&seed, header + 18, sizeof(seed));
  // A u64 above INT64_MAX becomes negative and fails ValidateShape.
  return {.rows = header[1],
          .columns = static_cast<int64_t>(columns),
          .dim = static_cast<int64_t>(dim),
          .seed = seed};
}

// Returns InvalidArgument naming the first difference between the shape of
// this sketch and the other's.
Status CheckCompatible(const SketchShape& mine, const SketchShape& theirs) {
  if (mine.rows != theirs.rows || mine.columns != theirs.columns) {
    return Status::InvalidArgument("sketch shapes differ: " + Dims(mine) +
                                   " vs " + Dims(theirs) + " (rows x columns)");
  }
  if (mine.dim != theirs.dim) {
    return Status::InvalidArgument(
        "sketch dimensions differ: " + std::to_string(mine.dim) + " vs " +
        std::to_string(theirs.dim));
  }
  if (mine.seed != theirs.seed) {
    return Status::InvalidArgument(
        "sketch hash seeds differ: " + std::to_string(mine.seed) + " vs " +
        std::to_string(theirs.seed));
  }
  return Status::Ok();
}

inline uint32_t MagnitudeKey(float value) {
  // |value|'s bits order like its magnitude; NaN sorts above infinity.
  return std::bit_cast<uint32_t>(value) & 0x7fffffffU;
}

// Of the entries with MagnitudeKey(value) == key, the first `ties` (in
// position order) are selected, as is every entry with a larger key.
struct Threshold {
  uint32_t key;
  size_t ties;
};

// Returns the threshold selecting the `count` (in [1, size)) largest
// magnitudes: a most-significant-digit radix select over the 31 key bits in
// digits of 11, 11 and 9 bits, each pass counting the keys that share the
// digits fixed so far. Keys are counted in four interleaved histograms
// (32 KB of stack), so runs of equal digits do not wait on each other's
// increments.
Threshold FindThreshold(std::span<const float> values, size_t count) {
  constexpr int kShifts[] = {20, 9, 0};
  constexpr int kWidths[] = {11, 11, 9};
  constexpr size_t kWays = 4;
  uint32_t histograms[kWays][1 << 11];
  const size_t size = values.size();
  const size_t whole = size / kWays * kWays;
  uint32_t prefix = 0;
  uint32_t prefix_mask = 0;
  size_t remaining = count;  // still to select among keys matching prefix
  for (int pass = 0; pass < 3; ++pass) {
    const int shift = kShifts[pass];
    const uint32_t digit_mask = (1U << kWidths[pass]) - 1;
    for (auto& histogram : histograms) {
      std::fill(histogram, histogram + digit_mask + 1, 0U);
    }
    const auto add = [&](size_t i, size_t way) {
      const uint32_t key = MagnitudeKey(values[i]);
      if ((key & prefix_mask) == prefix) {
        ++histograms[way][(key >> shift) & digit_mask];
      }
    };
    for (size_t i = 0; i < whole; i += kWays) {
      for (size_t way = 0; way < kWays; ++way) {
        add(i + way, way);
      }
    }
    for (size_t i = whole; i < size; ++i) {
      add(i, 0);
    }
    // At least `remaining` keys match the prefix, so this stops at a digit.
    uint32_t digit = digit_mask;
    while (true) {
      size_t keys = 0;
      for (const auto& histogram : histograms) {
        keys += histogram[digit];
      }
      if (keys >= remaining) break;
      remaining -= keys;
      --digit;
    }
    prefix |= digit << shift;
    prefix_mask |= digit_mask << shift;
  }
  return {prefix, remaining};
}

}  // namespace

CountSketch::CountSketch(const SketchShape& shape) : shape_(shape) {
  ANCHORAGE_CHECK(ValidateShape(shape).ok(), "invalid sketch shape");
  for (int j = 0; j < shape.rows; ++j) {
    row_seeds_[j] =
        static_cast<uint32_t>(MixSeed(shape.seed, static_cast<uint64_t>(j)));
  }
  table_.assign(static_cast<size_t>(shape.rows * shape.columns), 0.0F);
}

Status CountSketch::ValidateShape(const SketchShape& shape) {
  if (shape.rows < 1 || shape.rows > kMaxRows) {
    return Status::InvalidArgument("sketch rows must be in [1, " +
                                   std::to_string(kMaxRows) + "], got " +
                                   std::to_string(shape.rows));
  }
  if (shape.columns < 1) {
    return Status::InvalidArgument("sketch columns must be >= 1, got " +
                                   std::to_string(shape.columns));
  }
  if (shape.columns > kMaxCells / shape.rows) {
    return Status::InvalidArgument(
        "sketch rows x columns must be <= 2^31 cells, got " + Dims(shape));
  }
  if (shape.dim < 1 || shape.dim >= kMaxDim) {
    return Status::InvalidArgument(
        "sketch dimension must be in [1, 2^32), got " +
        std::to_string(shape.dim));
  }
  return Status::Ok();
}

size_t CountSketch::SerializedSize(const SketchShape& shape) {
  return kHeaderBytes +
         sizeof(float) * static_cast<size_t>(shape.rows * shape.columns);
}

StatusOr<SketchShape> CountSketch::PeekShape(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes) {
    return Status::DataLoss("sketch has " + std::to_string(bytes.size()) +
                            " bytes, shorter than the " +
                            std::to_string(kHeaderBytes) + "-byte header");
  }
  if (bytes[0] != kMagic) {
    return Status::DataLoss("sketch header has magic byte " +
                            std::to_string(bytes[0]) + ", expected " +
                            std::to_string(kMagic));
  }
  const SketchShape shape = ReadHeader(bytes.data());
  const Status valid = ValidateShape(shape);
  if (!valid.ok()) {
    return Status::DataLoss("sketch header is corrupt: " + valid.message());
  }
  const size_t expected = SerializedSize(shape);
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "sketch has " + std::to_string(bytes.size()) + " bytes, expected " +
        std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(kHeaderBytes) + "-byte header + " + Dims(shape) +
        " cells of 4 bytes)");
  }
  return shape;
}

StatusOr<double> CountSketch::SerializedNorm(std::span<const uint8_t> bytes) {
  StatusOr<SketchShape> shape = PeekShape(bytes);
  if (!shape.ok()) return shape.status();
  const uint8_t* cells = bytes.data() + kHeaderBytes;
  const auto columns = static_cast<size_t>(shape->columns);
  double row_norms[kMaxRows] = {};
  for (int j = 0; j < shape->rows; ++j) {
    double squares = 0;
    for (size_t n = 0; n < columns; ++n) {
      const double cell = LoadCell(cells, static_cast<size_t>(j) * columns + n);
      squares += cell * cell;
    }
    if (!std::isfinite(squares)) return std::numeric_limits<double>::infinity();
    row_norms[j] = std::sqrt(squares);
  }
  double* middle = row_norms + shape->rows / 2;
  std::nth_element(row_norms, middle, row_norms + shape->rows);
  return *middle;
}

void CountSketch::Clear() {
  std::fill(table_.begin(), table_.end(), 0.0F);
}

void CountSketch::Insert(std::span<const float> values) {
  ANCHORAGE_CHECK(static_cast<int64_t>(values.size()) == shape_.dim,
                  "sketch insert of the wrong dimension");
  const auto columns = static_cast<uint32_t>(shape_.columns);
  for (int j = 0; j < shape_.rows; ++j) {
    InsertRow(values, row_seeds_[j], columns,
              table_.data() + static_cast<size_t>(j) * columns);
  }
}

void CountSketch::InsertSparse(std::span<const uint32_t> indices,
                               std::span<const float> values) {
  ANCHORAGE_CHECK(indices.size() == values.size(),
                  "sketch sparse insert: sizes differ");
  const auto columns = static_cast<uint32_t>(shape_.columns);
  for (size_t n = 0; n < indices.size(); ++n) {
    ANCHORAGE_CHECK(indices[n] < shape_.dim, "sketch index out of range");
    for (int j = 0; j < shape_.rows; ++j) {
      const uint32_t z = RowHash(indices[n], row_seeds_[j]);
      table_[static_cast<size_t>(j) * columns + Bucket(z, columns)] +=
          Signed(values[n], z);
    }
  }
}

void CountSketch::ZeroBucketsOf(std::span<const uint32_t> indices) {
  const auto columns = static_cast<uint32_t>(shape_.columns);
  for (const uint32_t i : indices) {
    ANCHORAGE_CHECK(i < shape_.dim, "sketch index out of range");
    for (int j = 0; j < shape_.rows; ++j) {
      const uint32_t z = RowHash(i, row_seeds_[j]);
      table_[static_cast<size_t>(j) * columns + Bucket(z, columns)] = 0.0F;
    }
  }
}

void CountSketch::Scale(float factor) {
  for (float& cell : table_) {
    cell *= factor;
  }
}

Status CountSketch::Merge(const CountSketch& other, float weight) {
  Status status = CheckCompatible(shape_, other.shape_);
  if (!status.ok()) return status;
  const float* cells = other.table_.data();
  for (size_t n = 0; n < table_.size(); ++n) {
    table_[n] += weight * cells[n];
  }
  return status;
}

void CountSketch::Serialize(std::vector<uint8_t>* out) const {
  out->resize(SerializedSize(shape_));
  uint8_t* bytes = out->data();
  const auto columns = static_cast<uint64_t>(shape_.columns);
  const auto dim = static_cast<uint64_t>(shape_.dim);
  bytes[0] = kMagic;
  bytes[1] = static_cast<uint8_t>(shape_.rows);
  std::memcpy(bytes + 2, &columns, sizeof(columns));
  std::memcpy(bytes + 10, &dim, sizeof(dim));
  std::memcpy(bytes + 18, &shape_.seed, sizeof(shape_.seed));
  std::memcpy(bytes + kHeaderBytes, table_.data(),
              table_.size() * sizeof(float));
}

Status CountSketch::MergeSerialized(std::span<const uint8_t> bytes) {
  StatusOr<SketchShape> theirs = PeekShape(bytes);
  if (!theirs.ok()) return theirs.status();
  Status status = CheckCompatible(shape_, *theirs);
  if (!status.ok()) return status;
  // All cells are checked before any is added.
  const uint8_t* cells = bytes.data() + kHeaderBytes;
  const size_t size = table_.size();
  uint32_t non_finite = 0;
  for (size_t n = 0; n < size; ++n) {
    const float magnitude = std::fabs(LoadCell(cells, n));
    // False for NaN as well as for infinities.
    non_finite |= magnitude <= std::numeric_limits<float>::max() ? 0U : 1U;
  }
  if (non_finite != 0) {
    for (size_t n = 0; n < size; ++n) {
      const float cell = LoadCell(cells, n);
      if (std::isfinite(cell)) continue;
      const auto columns = static_cast<size_t>(shape_.columns);
      return Status::DataLoss("sketch cell (" + std::to_string(n / columns) +
                              ", " + std::to_string(n % columns) + ") is " +
                              FormatValue(cell) + ", not finite");
    }
  }
  for (size_t n = 0; n < size; ++n) {
    table_[n] += LoadCell(cells, n);
  }
  return status;
}

float CountSketch::Estimate(int64_t i) const {
  ANCHORAGE_CHECK(i >= 0 && i < shape_.dim, "sketch index out of range");
  const auto columns = static_cast<uint32_t>(shape_.columns);
  float row_estimates[kMaxRows] = {};
  for (int j = 0; j < shape_.rows; ++j) {
    const uint32_t z = RowHash(static_cast<uint32_t>(i), row_seeds_[j]);
    row_estimates[j] = Signed(
        table_[static_cast<size_t>(j) * columns + Bucket(z, columns)], z);
  }
  // The odd-even transposition sort EstimateAll runs, on one coordinate.
  const int rows = shape_.rows;
  for (int round = 0; round < rows; ++round) {
    for (int j = round % 2; j + 1 < rows; j += 2) {
      CompareExchange(row_estimates[j], row_estimates[j + 1]);
    }
  }
  return MedianOfSorted(row_estimates[(rows - 1) / 2], row_estimates[rows / 2],
                        rows);
}

void CountSketch::EstimateAll(std::span<float> out) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(out.size()) == shape_.dim,
                  "sketch estimate of the wrong dimension");
  const auto columns = static_cast<uint32_t>(shape_.columns);
  const int rows = shape_.rows;
  float row_estimates[kMaxRows][kBlock];
  uint32_t hashes[kBlock];
  uint32_t buckets[kBlock];
  for (size_t begin = 0; begin < out.size(); begin += kBlock) {
    const size_t size = std::min(kBlock, out.size() - begin);
    for (int j = 0; j < rows; ++j) {
      // Hashing in one (vectorised) loop, gathering in another.
      const uint32_t row_seed = row_seeds_[j];
      for (size_t t = 0; t < size; ++t) {
        hashes[t] = RowHash(static_cast<uint32_t>(begin + t), row_seed);
        buckets[t] = Bucket(hashes[t], columns);
      }
      const float* row = table_.data() + static_cast<size_t>(j) * columns;
      float* estimates = row_estimates[j];
      for (size_t t = 0; t < size; ++t) {
        estimates[t] = Signed(row[buckets[t]], hashes[t]);
      }
    }
    // Odd-even transposition sort of each coordinate's row estimates: after
    // `rows` rounds of compare-exchanges between neighbouring rows, row m of
    // the block holds the m-th smallest of every coordinate.
    for (int round = 0; round < rows; ++round) {
      for (int j = round % 2; j + 1 < rows; j += 2) {
        float* low = row_estimates[j];
        float* high = row_estimates[j + 1];
        for (size_t t = 0; t < size; ++t) {
          CompareExchange(low[t], high[t]);
        }
      }
    }
    const float* middle_low = row_estimates[(rows - 1) / 2];
    const float* middle_high = row_estimates[rows / 2];
    for (size_t t = 0; t < size; ++t) {
      out[begin + t] = MedianOfSorted(middle_low[t], middle_high[t], rows);
    }
  }
}

std::vector<uint32_t> CountSketch::HeavyHitters(int64_t count) const {
  std::vector<float> estimates(static_cast<size_t>(shape_.dim));
  EstimateAll(estimates);
  std::vector<uint32_t> indices;
  LargestMagnitudes(estimates, count, &indices);
  return indices;
}

void LargestMagnitudes(std::span<const float> values, int64_t count,
                       std::vector<uint32_t>* indices) {
  ANCHORAGE_CHECK(values.size() < (size_t{1} << 32),
                  "more values than u32 positions");
  const size_t size = values.size();
  const auto selected = static_cast<size_t>(
      std::clamp<int64_t>(count, 0, static_cast<int64_t>(size)));
  indices->resize(selected);
  if (selected == size) {
    for (size_t i = 0; i < size; ++i) {
      (*indices)[i] = static_cast<uint32_t>(i);
    }
    return;
  }
  if (selected == 0) return;
  auto [threshold, ties] = FindThreshold(values, selected);
  uint32_t* out = indices->data();
  for (size_t i = 0; i < size; ++i) {
    const uint32_t key = MagnitudeKey(values[i]);
    if (key < threshold) continue;
    if (key == threshold) {
      if (ties == 0) continue;
      --ties;
    }
    *out++ = static_cast<uint32_t>(i);
  }
}

void KeepLargestMagnitudes(std::span<float> values, int64_t count) {
  const size_t size = values.size();
  const auto selected = static_cast<size_t>(
      std::clamp<int64_t>(count, 0, static_cast<int64_t>(size)));
  if (selected == size) return;
  if (selected == 0) {
    std::fill(values.begin(), values.end(), 0.0F);
    return;
  }
  auto [threshold, ties] = FindThreshold(values, selected);
  for (float& value : values) {
    const uint32_t key = MagnitudeKey(value);
    if (key > threshold) continue;
    if (key == threshold && ties > 0) {
      --ties;
      continue;
    }
    value = 0.0F;
  }
}

void CountSketch::SaveCells(ByteWriter* out) const {
  out->Floats(table_);
}

void CountSketch::LoadCells(ByteReader* in) {
  std::vector<float> cells;
  in->Floats(&cells, table_.size());
  if (!in->ok()) return;
  if (cells.size() != table_.size()) {
    in->Fail("a sketch of " + std::to_string(cells.size()) +
             " cells where the shape has " + std::to_string(table_.size()));
    return;
  }
  if (!std::all_of(cells.begin(), cells.end(),
                   [](float cell) { return std::isfinite(cell); })) {
    in->Fail("a sketch cell is not finite");
    return;
  }
  table_ = std::move(cells);
}

}  // namespace anchorage::codec
