#include "common/codec/count_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/seed.h"
#include "tests/common/codec/gaussian.h"
#include "tests/testing/expect_status.h"

namespace anchorage::codec {
namespace {

using testing::ExpectError;

constexpr SketchShape kSmall{
    .rows = 5, .columns = 1000, .dim = 10007, .seed = 7};

std::vector<float> Table(const CountSketch& sketch) {
  return {sketch.table().begin(), sketch.table().end()};
}

// The hashes as the header documents them, written out independently.
struct ReferenceHash {
  uint32_t bucket;
  float sign;
};
ReferenceHash Reference(const SketchShape& shape, int row, uint32_t i) {
  const auto row_seed =
      static_cast<uint32_t>(MixSeed(shape.seed, static_cast<uint64_t>(row)));
  uint32_t z = i ^ row_seed;
  z ^= z >> 16;
  z *= 0x85ebca6bU;
  z ^= z >> 13;
  z *= 0xc2b2ae35U;
  z ^= z >> 16;
  const auto columns = static_cast<uint64_t>(shape.columns);
  return {static_cast<uint32_t>((uint64_t{z} * columns) >> 32),
          (z & 1) != 0 ? -1.0F : 1.0F};
}

TEST(CountSketchTest, ValidateShapeNamesTheFieldOutOfRange) {
  const auto check = [](SketchShape shape, const std::string& fragment) {
    ExpectError(CountSketch::ValidateShape(shape),
                Status::Code::kInvalidArgument, fragment);
  };
  SketchShape shape = kSmall;
  shape.rows = 0;
  check(shape, "sketch rows must be in [1, 15], got 0");
  shape.rows = 16;
  check(shape, "got 16");
  shape = kSmall;
  shape.columns = 0;
  check(shape, "sketch columns must be >= 1, got 0");
  shape.rows = 2;
  shape.columns = (int64_t{1} << 30) + 1;
  check(shape, "<= 2^31 cells, got 2x1073741825");
  shape = kSmall;
  shape.dim = 0;
  check(shape, "sketch dimension must be in [1, 2^32), got 0");
  shape.dim = int64_t{1} << 32;
  check(shape, "got 4294967296");

  EXPECT_TRUE(CountSketch::ValidateShape(kSmall).ok());
  EXPECT_TRUE(CountSketch::ValidateShape({.rows = 15,
                                          .columns = (int64_t{1} << 31) / 15,
                                          .dim = (int64_t{1} << 32) - 1,
                                          .seed = 0})
                  .ok());
  EXPECT_TRUE(CountSketch::ValidateShape(
                  {.rows = 2, .columns = int64_t{1} << 30, .dim = 1, .seed = 0})
                  .ok());
}

// Every cell lands where the header's formulas put it, so any machine
// builds the same sketch.
TEST(CountSketchTest, HashesFollowTheDocumentedFormulas) {
  const SketchShape shape{.rows = 4, .columns = 37, .dim = 3000, .seed = 99};
  CountSketch sketch(shape);
  for (uint32_t i = 0; i < shape.dim; i += 7) {
    sketch.Clear();
    const uint32_t index[] = {i};
    const float value[] = {1.5F};
    sketch.InsertSparse(index, value);
    std::vector<float> expected(
        static_cast<size_t>(shape.rows * shape.columns));
    for (int j = 0; j < shape.rows; ++j) {
      const ReferenceHash hash = Reference(shape, j, i);
      expected[j * shape.columns + hash.bucket] = 1.5F * hash.sign;
    }
    ASSERT_EQ(Table(sketch), expected) << "coordinate " << i;
  }
}

// Each row spreads coordinates evenly over its buckets (within 5 binomial
// standard deviations) and gives about as many + as - signs.
TEST(CountSketchTest, BucketsAndSignsAreBalanced) {
  const SketchShape shape{.rows = 3, .columns = 50, .dim = 200000, .seed = 3};
  for (int j = 0; j < shape.rows; ++j) {
    std::vector<int> counts(static_cast<size_t>(shape.columns));
    int negative = 0;
    for (uint32_t i = 0; i < shape.dim; ++i) {
      const ReferenceHash hash = Reference(shape, j, i);
      ++counts[hash.bucket];
      negative += hash.sign < 0 ? 1 : 0;
    }
    const auto dim = static_cast<double>(shape.dim);
    const double mean = dim / 50;
    for (const int count : counts) {
      EXPECT_LT(std::fabs(count - mean), 5 * std::sqrt(mean)) << "row " << j;
    }
    EXPECT_LT(std::fabs(negative - dim / 2), 5 * std::sqrt(dim / 4));
  }
}

TEST(CountSketchTest, InsertIsLinearAndMergeAddsTables) {
  const std::vector<float> a = Gaussian(kSmall.dim, 1);
  const std::vector<float> b = Gaussian(kSmall.dim, 2, 3.0F);
  std::vector<float> sum(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    sum[i] = a[i] + b[i];
  }
  CountSketch sketch_a(kSmall);
  CountSketch sketch_b(kSmall);
  CountSketch sketch_sum(kSmall);
  sketch_a.Insert(a);
  sketch_b.Insert(b);
  sketch_sum.Insert(sum);

  // S(a) + S(b) = S(a + b) up to the float rounding of the sums in a cell
  // (about 10 coordinates of magnitude ~3 per cell).
  const std::vector<float> table_a = Table(sketch_a);
  const std::vector<float> table_b = Table(sketch_b);
  const std::vector<float> table_sum = Table(sketch_sum);
  for (size_t n = 0; n < table_a.size(); ++n) {
    ASSERT_NEAR(table_a[n] + table_b[n], table_sum[n], 1e-4) << "cell " << n;
  }
  // Merge adds the tables cell by cell, exactly.
  ASSERT_TRUE(sketch_a.Merge(sketch_b).ok());
  for (size_t n = 0; n < table_a.size(); ++n) {
    ASSERT_EQ(sketch_a.table()[n], table_a[n] + table_b[n]) << "cell " << n;
  }
  // A weighted merge adds weight x other; Scale multiplies.
  CountSketch weighted(kSmall);
  ASSERT_TRUE(weighted.Merge(sketch_b, 0.5F).ok());
  weighted.Scale(-2.0F);
  for (size_t n = 0; n < table_b.size(); ++n) {
    ASSERT_EQ(weighted.table()[n], -table_b[n]) << "cell " << n;
  }
}

// InsertSparse of a sparse vector equals Insert of its dense form.
TEST(CountSketchTest, InsertSparseMatchesDenseInsert) {
  const std::vector<uint32_t> indices = {0, 5, 77, 10006, 5};
  const std::vector<float> values = {1.0F, -2.0F, 3.5F, 0.25F, 4.0F};
  std::vector<float> dense(static_cast<size_t>(kSmall.dim));
  for (size_t n = 0; n < indices.size(); ++n) {
    dense[indices[n]] += values[n];
  }
  CountSketch sparse(kSmall);
  CountSketch full(kSmall);
  sparse.InsertSparse(indices, values);
  full.Insert(dense);
  EXPECT_EQ(Table(sparse), Table(full));
}

TEST(CountSketchTest, ZeroBucketsOfClearsEveryRowsBucket) {
  CountSketch sketch(kSmall);
  sketch.Insert(Gaussian(kSmall.dim, 4));
  const std::vector<uint32_t> indices = {3, 9000};
  sketch.ZeroBucketsOf(indices);
  size_t zeros = 0;
  for (const uint32_t i : indices) {
    for (int j = 0; j < kSmall.rows; ++j) {
      EXPECT_EQ(
          sketch.table()[j * kSmall.columns + Reference(kSmall, j, i).bucket],
          0.0F);
    }
  }
  for (const float cell : sketch.table()) {
    zeros += cell == 0.0F ? 1 : 0;
  }
  EXPECT_LE(zeros, 2U * kSmall.rows);
  EXPECT_EQ(sketch.Estimate(3), 0.0F);
  EXPECT_EQ(sketch.Estimate(9000), 0.0F);
}

// The estimate is the median over the rows of s_j(i) S[j, h_j(i)], the mean
// of the middle two for even r; EstimateAll agrees with Estimate bit for
// bit.
TEST(CountSketchTest, EstimateIsTheMedianOfTheRows) {
  for (const int rows : {1, 2, 3, 4, 5, 8, 15}) {
    const SketchShape shape{.rows = rows,
                            .columns = 300,
                            .dim = 5000,
                            .seed = static_cast<uint64_t>(rows)};
    CountSketch sketch(shape);
    sketch.Insert(Gaussian(static_cast<size_t>(shape.dim), 5));
    std::vector<float> all(static_cast<size_t>(shape.dim));
    sketch.EstimateAll(all);
    for (uint32_t i = 0; i < shape.dim; ++i) {
      std::vector<float> row_estimates;
      for (int j = 0; j < rows; ++j) {
        const ReferenceHash hash = Reference(shape, j, i);
        row_estimates.push_back(
            hash.sign * sketch.table()[j * shape.columns + hash.bucket]);
      }
      std::sort(row_estimates.begin(), row_estimates.end());
      const float median =
          rows % 2 == 1
              ? row_estimates[rows / 2]
              : 0.5F * (row_estimates[rows / 2 - 1] + row_estimates[rows / 2]);
      ASSERT_EQ(sketch.Estimate(i), median) << "rows " << rows << " i " << i;
      ASSERT_EQ(all[i], median) << "rows " << rows << " i " << i;
    }
  }
}

TEST(CountSketchTest, OneCoordinateIsEstimatedExactly) {
  CountSketch sketch(kSmall);
  std::vector<float> values(static_cast<size_t>(kSmall.dim));
  values[4321] = -3.5F;
  sketch.Insert(values);
  EXPECT_EQ(sketch.Estimate(4321), -3.5F);
  const std::vector<uint32_t> top = sketch.HeavyHitters(1);
  EXPECT_EQ(top, std::vector<uint32_t>{4321});
}

TEST(CountSketchTest, SerializeWritesTheDocumentedLayout) {
  const SketchShape shape{
      .rows = 3, .columns = 4, .dim = 100, .seed = 0x0102030405060708ULL};
  CountSketch sketch(shape);
  sketch.Insert(Gaussian(100, 6));
  std::vector<uint8_t> bytes;
  sketch.Serialize(&bytes);
  ASSERT_EQ(bytes.size(), 26U + 4 * 12);
  EXPECT_EQ(CountSketch::SerializedSize(shape), bytes.size());
  const std::vector<uint8_t> header = {0x53, 3,  // magic, rows
                                       4,    0, 0, 0, 0, 0, 0, 0,   // columns
                                       100,  0, 0, 0, 0, 0, 0, 0,   // dim
                                       8,    7, 6, 5, 4, 3, 2, 1};  // seed
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 26), header);
  std::vector<float> cells(12);
  std::memcpy(cells.data(), bytes.data() + 26, 48);
  EXPECT_EQ(cells, Table(sketch));

  StatusOr<SketchShape> peeked = CountSketch::PeekShape(bytes);
  ASSERT_TRUE(peeked.ok()) << peeked.status().ToString();
  EXPECT_EQ(*peeked, shape);
}

// MergeSerialized reads a sketch at any address and adds it.
TEST(CountSketchTest, MergeSerializedAddsAtAnyAlignment) {
  CountSketch source(kSmall);
  source.Insert(Gaussian(kSmall.dim, 7));
  std::vector<uint8_t> bytes;
  source.Serialize(&bytes);
  for (const size_t offset : {0, 1, 2, 3}) {
    std::vector<uint8_t> shifted(offset);
    shifted.insert(shifted.end(), bytes.begin(), bytes.end());
    CountSketch target(kSmall);
    target.Insert(Gaussian(kSmall.dim, 8));
    std::vector<float> expected = Table(target);
    for (size_t n = 0; n < expected.size(); ++n) {
      expected[n] += source.table()[n];
    }
    ASSERT_TRUE(
        target
            .MergeSerialized(std::span<const uint8_t>(shifted).subspan(offset))
            .ok());
    EXPECT_EQ(Table(target), expected) << "offset " << offset;
  }
}

TEST(CountSketchTest, MergeRefusesAnotherShapeDimensionOrSeed) {
  const auto refuse = [](SketchShape other, const std::string& message) {
    SketchShape mine{.rows = 5, .columns = 1000, .dim = 100, .seed = 7};
    CountSketch target(mine);
    target.Insert(Gaussian(100, 9));
    const std::vector<float> before = Table(target);
    CountSketch source(other);
    source.Insert(Gaussian(static_cast<size_t>(other.dim), 10));
    ExpectError(target.Merge(source), Status::Code::kInvalidArgument, message);
    EXPECT_EQ(Table(target), before);
    std::vector<uint8_t> bytes;
    source.Serialize(&bytes);
    ExpectError(target.MergeSerialized(bytes), Status::Code::kInvalidArgument,
                message);
    EXPECT_EQ(Table(target), before);
  };
  refuse({.rows = 5, .columns = 2000, .dim = 100, .seed = 7},
         "sketch shapes differ: 5x1000 vs 5x2000");
  refuse({.rows = 4, .columns = 1000, .dim = 100, .seed = 7},
         "sketch shapes differ: 5x1000 vs 4x1000");
  refuse({.rows = 5, .columns = 1000, .dim = 100, .seed = 8},
         "sketch hash seeds differ: 7 vs 8");
  refuse({.rows = 5, .columns = 1000, .dim = 101, .seed = 7},
         "sketch dimensions differ: 100 vs 101");
}

TEST(CountSketchTest, MergeSerializedRejectsMalformedBytesUnchanged) {
  CountSketch source(kSmall);
  source.Insert(Gaussian(kSmall.dim, 11));
  std::vector<uint8_t> good;
  source.Serialize(&good);
  CountSketch target(kSmall);
  target.Insert(Gaussian(kSmall.dim, 12));
  const std::vector<float> before = Table(target);

  const auto reject = [&](const std::vector<uint8_t>& bytes,
                          const std::string& fragment) {
    ExpectError(target.MergeSerialized(bytes), Status::Code::kDataLoss,
                fragment);
    EXPECT_EQ(Table(target), before) << fragment;
    ExpectError(CountSketch::PeekShape(bytes).status(), Status::Code::kDataLoss,
                fragment.substr(0, 6));
  };
  reject(std::vector<uint8_t>(good.begin(), good.begin() + 10),
         "sketch has 10 bytes, shorter than the 26-byte header");
  reject({}, "sketch has 0 bytes");
  std::vector<uint8_t> bytes(good.begin(), good.end() - 1);
  reject(bytes, "expected 20026 (truncated");
  bytes = good;
  bytes.push_back(0);
  reject(bytes, "expected 20026 (oversized");
  bytes = good;
  bytes[0] = 0x51;
  reject(bytes, "sketch header has magic byte 81, expected 83");
  bytes = good;
  bytes[1] = 0;
  reject(bytes, "sketch header is corrupt: sketch rows must be in [1, 15]");
  bytes = good;
  bytes[9] = 0x80;  // columns >= 2^63
  reject(bytes, "sketch header is corrupt: sketch columns must be >= 1");

  // Cells are checked, not only the header. Cell (2, 500) is float 2500.
  const auto poison = [&](float value, const std::string& fragment) {
    std::vector<uint8_t> poisoned = good;
    std::memcpy(poisoned.data() + 26 + size_t{4} * 2500, &value, 4);
    ExpectError(target.MergeSerialized(poisoned), Status::Code::kDataLoss,
                fragment);
    EXPECT_EQ(Table(target), before) << fragment;
  };
  poison(std::numeric_limits<float>::quiet_NaN(),
         "sketch cell (2, 500) is nan, not finite");
  poison(-std::numeric_limits<float>::infinity(),
         "sketch cell (2, 500) is -inf, not finite");

  ASSERT_TRUE(target.MergeSerialized(good).ok());
}

// The reference selection of finite values: a stable sort by magnitude,
// descending, then the first `count` in increasing order.
std::vector<uint32_t> ReferenceLargest(const std::vector<float>& values,
                                       size_t count) {
  std::vector<uint32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::fabs(values[a]) > std::fabs(values[b]);
  });
  order.resize(std::min(count, order.size()));
  std::sort(order.begin(), order.end());
  return order;
}

TEST(CountSketchTest, LargestMagnitudesMatchesAStableSort) {
  std::mt19937 rng(13);
  for (const size_t size : {1, 2, 15, 16, 17, 1000, 70000}) {
    for (const bool ties : {false, true}) {
      std::vector<float> values(size);
      std::uniform_int_distribution<int> small(-6, 6);
      std::normal_distribution<float> normal(0.0F, 1e3F);
      for (float& value : values) {
        value = ties ? static_cast<float>(small(rng)) * 0.5F : normal(rng);
      }
      for (const int64_t count :
           {int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{3},
            static_cast<int64_t>(size / 3), static_cast<int64_t>(size) - 1,
            static_cast<int64_t>(size), static_cast<int64_t>(size) + 5}) {
        const size_t expected_count = static_cast<size_t>(
            std::clamp<int64_t>(count, 0, static_cast<int64_t>(size)));
        std::vector<uint32_t> indices = {42};
        LargestMagnitudes(values, count, &indices);
        ASSERT_EQ(indices, ReferenceLargest(values, expected_count))
            << "size " << size << " count " << count << " ties " << ties;
        std::vector<float> kept = values;
        KeepLargestMagnitudes(kept, count);
        std::vector<float> expected(size);
        for (const uint32_t i : indices) {
          expected[i] = values[i];
        }
        ASSERT_EQ(kept, expected) << "size " << size << " count " << count;
      }
    }
  }
}

TEST(CountSketchTest, LargestMagnitudesRanksNanAboveInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> values = {1.0F, -inf, std::nanf(""), 3.0F, -0.0F};
  std::vector<uint32_t> indices;
  LargestMagnitudes(values, 1, &indices);
  EXPECT_EQ(indices, std::vector<uint32_t>{2});
  LargestMagnitudes(values, 3, &indices);
  EXPECT_EQ(indices, (std::vector<uint32_t>{1, 2, 3}));
}

// A gradient whose mass sits on k = 1000 of d = 10^6 coordinates: values of
// magnitude uniform in [10, 20] with random signs on random coordinates, and
// N(0, 0.1^2) noise everywhere else (the heavy coordinates are 100 to 200
// noise standard deviations). In a 5 x 10,000 sketch (20x fewer cells than
// coordinates) a bucket holds ~100 noise coordinates (noise ~1 per cell), and
// a coordinate shares a bucket with a heavy one in a given row with
// probability ~0.1, so ~0.9% of all coordinates meet heavy ones in 3 of 5
// rows and may estimate as large as a planted value. The top k estimates
// alone hold only ~58% of the planted set; the top P k with P = 4 hold
// >= 99% (all of it with these seeds), which is why Sketched SGD asks for
// exact values at P k candidates.
TEST(CountSketchTest, HeavyHittersRecoverPlantedCoordinates) {
  constexpr int64_t kDim = 1'000'000;
  constexpr size_t kHeavy = 1000;
  std::vector<float> values = Gaussian(kDim, 14, 0.1F);
  std::mt19937 rng(15);
  std::uniform_int_distribution<uint32_t> coordinate(0, kDim - 1);
  std::uniform_real_distribution<float> magnitude(10.0F, 20.0F);
  std::unordered_set<uint32_t> planted;
  while (planted.size() < kHeavy) {
    const uint32_t i = coordinate(rng);
    if (!planted.insert(i).second) continue;
    values[i] = (rng() % 2 == 0 ? 1.0F : -1.0F) * magnitude(rng);
  }
  CountSketch sketch({.rows = 5, .columns = 10'000, .dim = kDim, .seed = 16});
  sketch.Insert(values);
  const std::vector<uint32_t> candidates = sketch.HeavyHitters(4 * kHeavy);
  ASSERT_EQ(candidates.size(), 4 * kHeavy);
  EXPECT_TRUE(std::is_sorted(candidates.begin(), candidates.end()));
  size_t found = 0;
  for (const uint32_t i : candidates) {
    found += planted.count(i);
  }
  EXPECT_GE(found, 990U);
}

}  // namespace
}  // namespace anchorage::codec
