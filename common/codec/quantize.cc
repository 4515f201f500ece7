#include "common/codec/quantize.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>

#include "common/base/format.h"

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the quantized wire format is little-endian");

namespace {

// Coordinates staged per block: a multiple of the RNG lane count and of the
// 8-coordinate packing group, small enough for the stack.
constexpr size_t kBlock = 1024;
constexpr size_t kLanes = QuantizationRng::kLanes;
static_assert(kBlock % kLanes == 0 && kBlock % 8 == 0);

size_t PayloadBytes(size_t dim, int bits) {
  return (dim / 8) * static_cast<size_t>(bits) +
         ((dim % 8) * static_cast<size_t>(bits) + 7) / 8;
}

// Norms below this make s / norm overflow float, and norm / s subnormal;
// both sides scale by 2^100 (exact) to stay in range.
constexpr float kTinyNorm = 0x1p-100F;

// The encode factors of one bucket: zeta = |x| * pre * inv.
struct EncodeFactors {
  float pre = 1.0F;
  float inv = 0.0F;  // a zero norm quantises its (zero) values to level 0
};

EncodeFactors EncodeFactorsOf(float norm, int levels) {
  if (norm == 0.0F) return {};
  const float pre = norm < kTinyNorm ? 0x1p100F : 1.0F;
  return {.pre = pre,
          .inv = static_cast<float>(
              levels / (static_cast<double>(norm) * static_cast<double>(pre)))};
}

// The decode factors of one bucket: |value| = min(l * scale, FLT_MAX) * post.
struct DecodeFactors {
  float scale = 0.0F;
  float post = 1.0F;
};

DecodeFactors DecodeFactorsOf(float norm, int levels) {
  const bool tiny = norm < kTinyNorm;
  return {.scale = static_cast<float>(static_cast<double>(norm) *
                                      (tiny ? 0x1p100 : 1.0) / levels),
          .post = tiny ? 0x1p-100F : 1.0F};
}

// Writes factors_of(k).*first / .*second for each coordinate [begin, begin +
// n) into first[0, n) / second[0, n), k being the coordinate's bucket of
// `bucket` values: one call per bucket the range touches.
template <typename FactorsOf>
void FillFactors(size_t begin, size_t n, size_t bucket,
                 const FactorsOf& factors_of, float* first, float* second) {
  size_t i = 0;
  while (i < n) {
    const size_t k = (begin + i) / bucket;
    const size_t end = std::min(n, (k + 1) * bucket - begin);
    const auto [a, b] = factors_of(k);
    std::fill(first + i, first + end, a);
    std::fill(second + i, second + end, b);
    i = end;
  }
}

float ReadFloat(const uint8_t* at) {
  float value = 0;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

// A coordinate's code (sign << (B - 1) | level) as staged between the
// quantise and pack steps: one byte when it fits.
template <int B>
using Code = std::conditional_t<(B <= 8), uint8_t, uint16_t>;

// Bytes a group's word access touches: eight B-bit fields fill B bytes, so
// every group starts on a byte boundary, and its bits are read and written
// as one or two whole 64-bit words (fixed-size copies compile to plain loads
// and stores; a B-byte copy for odd B does not).
template <int B>
constexpr size_t kWindow = B <= 8 ? 8 : 16;

// Returns a mask of the low `bits` (< 64) bits of each `lane`-bit lane.
constexpr uint64_t LaneMask(int lane, int bits) {
  uint64_t mask = 0;
  for (int shift = 0; shift < 64; shift += lane) {
    mask |= ((uint64_t{1} << bits) - 1) << shift;
  }
  return mask;
}

// Packs the `B`-bit fields at the bottom of each `Lane`-bit lane of `x`
// into the low bits, in lane order (SWAR: each step joins the fields of
// adjacent lane pairs, a few operations per word instead of per field).
template <int B, int Lane>
uint64_t Squeeze(uint64_t x) {
  if constexpr (Lane == 64) {
    return x;
  } else {
    constexpr uint64_t kMask = LaneMask(2 * Lane, B);
    x = (x & kMask) | (((x >> Lane) & kMask) << B);
    return Squeeze<2 * B, 2 * Lane>(x);
  }
}

// The inverse of Squeeze: spreads the low bits of `x` into `B`-bit fields
// at the bottom of `Lane`-bit lanes.
template <int B, int Lane>
uint64_t Spread(uint64_t x) {
  if constexpr (Lane == 64) {
    return x;
  } else {
    x = Spread<2 * B, 2 * Lane>(x);
    constexpr uint64_t kMask = LaneMask(2 * Lane, B);
    return (x & kMask) | (((x >> B) & kMask) << Lane);
  }
}

// Writes the 8 `B`-bit codes at `codes` into the B bytes at `out`, and zeros
// into the rest of the kWindow<B> bytes from `out`.
template <int B>
void PackGroup(const Code<B>* codes, uint8_t* out) {
  if constexpr (B <= 8) {
    uint64_t word = 0;
    std::memcpy(&word, codes, 8);
    word = Squeeze<B, 8>(word);
    std::memcpy(out, &word, 8);
  } else {
    uint64_t lo = 0;
    uint64_t hi = 0;
    std::memcpy(&lo, codes, 8);
    std::memcpy(&hi, codes + 4, 8);
    lo = Squeeze<B, 16>(lo);
    hi = Squeeze<B, 16>(hi);
    uint64_t first = lo;
    uint64_t second = hi;
    if constexpr (B < 16) {
      first = lo | (hi << (4 * B));
      second = hi >> (64 - 4 * B);
    }
    std::memcpy(out, &first, 8);
    std::memcpy(out + 8, &second, 8);
  }
}

// Reads the 8 `B`-bit codes of the first B of the kWindow<B> bytes at `in`;
// the inverse of PackGroup.
template <int B>
void UnpackGroup(const uint8_t* in, Code<B>* codes) {
  if constexpr (B <= 8) {
    uint64_t word = 0;
    std::memcpy(&word, in, 8);
    if constexpr (B < 8) word &= (uint64_t{1} << (8 * B)) - 1;
    word = Spread<B, 8>(word);
    std::memcpy(codes, &word, 8);
  } else {
    uint64_t first = 0;
    uint64_t second = 0;
    std::memcpy(&first, in, 8);
    std::memcpy(&second, in + 8, 8);
    uint64_t lo = first;
    uint64_t hi = second;
    if constexpr (B < 16) {
      constexpr uint64_t kMask = (uint64_t{1} << (4 * B)) - 1;
      lo = first & kMask;
      hi = ((first >> (4 * B)) | (second << (64 - 4 * B))) & kMask;
    }
    lo = Spread<B, 16>(lo);
    hi = Spread<B, 16>(hi);
    std::memcpy(codes, &lo, 8);
    std::memcpy(codes + 4, &hi, 8);
  }
}

// Packs codes[0, n) of a block (codes[n, roundup(n, 8)) must be 0) into the
// ceil(n * B / 8) bytes at `out`, of which `room` >= that many are
// writable. Groups are written in order, so a window's zeros past its group
// are overwritten by the next group; groups whose window would pass `room`
// go through a local buffer.
template <int B>
void PackBlock(const Code<B>* codes, size_t n, uint8_t* out, size_t room) {
  const size_t groups = (n + 7) / 8;
  size_t g = 0;
  for (; g < groups && g * B + kWindow<B> <= room; ++g) {
    PackGroup<B>(codes + 8 * g, out + g * B);
  }
  for (; g < groups; ++g) {
    uint8_t window[16];
    PackGroup<B>(codes + 8 * g, window);
    const size_t fields = std::min<size_t>(8, n - 8 * g);
    std::memcpy(out + g * B, window, (fields * B + 7) / 8);
  }
}

// Unpacks n codes from the ceil(n * B / 8) bytes at `in`, of which `room`
// >= that many are readable, into codes[0, n). Returns false when a padding
// bit after code n - 1 is set.
template <int B>
bool UnpackBlock(const uint8_t* in, size_t n, Code<B>* codes, size_t room) {
  const size_t full = n / 8;
  size_t g = 0;
  for (; g < full && g * B + kWindow<B> <= room; ++g) {
    UnpackGroup<B>(in + g * B, codes + 8 * g);
  }
  const size_t groups = (n + 7) / 8;
  bool padding_clear = true;
  for (; g < groups; ++g) {
    const size_t fields = std::min<size_t>(8, n - 8 * g);
    uint8_t window[16] = {};
    std::memcpy(window, in + g * B, (fields * B + 7) / 8);
    Code<B> group[8];
    UnpackGroup<B>(window, group);
    for (size_t j = 0; j < 8; ++j) {
      if (j < fields) {
        codes[8 * g + j] = group[j];
      } else {
        padding_clear = padding_clear && group[j] == 0;
      }
    }
  }
  return padding_clear;
}

// Eight 32-bit lanes of the random stream. GCC's and Clang's vector
// extension lowers the operators to SIMD instructions (AVX2: one register),
// which the auto-vectoriser declines to do for this loop.
using Lanes [[gnu::vector_size(32)]] = uint32_t;
constexpr size_t kHalves = QuantizationRng::kLanes / 8;
static_assert(sizeof(Lanes) * kHalves == sizeof(uint32_t) * kLanes);

// Quantises `dim` values in buckets of `bucket` with norms `norms` into the
// payload at `out`. Level l_i = floor(zeta_i) + [u_i < frac(zeta_i)] with
// zeta_i = |x_i| * pre_k * inv_k (k = i / bucket), clamped to s because
// rounding can push zeta_i a few ulps above s.
template <int B>
void EncodeAll(const float* values, size_t dim, const float* norms,
               size_t bucket, QuantizationRng* rng, uint8_t* out) {
  constexpr int kLevels = QuantizationLevels(B);
  const size_t payload_bytes = PayloadBytes(dim, B);
  Lanes s0[kHalves];
  Lanes s1[kHalves];
  Lanes s2[kHalves];
  Lanes s3[kHalves];
  std::memcpy(s0, rng->state[0], sizeof(s0));
  std::memcpy(s1, rng->state[1], sizeof(s1));
  std::memcpy(s2, rng->state[2], sizeof(s2));
  std::memcpy(s3, rng->state[3], sizeof(s3));
  alignas(64) float staged[kBlock];
  alignas(64) float pre[kBlock];
  alignas(64) float inv[kBlock];
  alignas(64) uint32_t random[kBlock];
  alignas(64) Code<B> codes[kBlock];
  const auto factors_of = [norms](size_t k) {
    const EncodeFactors f = EncodeFactorsOf(norms[k], kLevels);
    return std::pair(f.pre, f.inv);
  };
  for (size_t begin = 0; begin < dim; begin += kBlock) {
    const size_t n = std::min(kBlock, dim - begin);
    const float* x = values + begin;
    size_t padded = n;
    if (n % kLanes != 0) {
      // The last block: zeros encode to code 0, so padding packs to zero bits.
      padded = (n / kLanes + 1) * kLanes;
      std::copy(x, x + n, staged);
      std::fill(staged + n, staged + padded, 0.0F);
      x = staged;
    }
    FillFactors(begin, n, bucket, factors_of, pre, inv);
    std::fill(pre + n, pre + padded, 1.0F);
    std::fill(inv + n, inv + padded, 0.0F);
    for (size_t c = 0; c < padded; c += kLanes) {
      for (size_t h = 0; h < kHalves; ++h) {
        // xoshiro128+ step of 8 lanes.
        const Lanes result = s0[h] + s3[h];
        std::memcpy(random + c + 8 * h, &result, sizeof(result));
        const Lanes t = s1[h] << 9;
        s2[h] ^= s0[h];
        s3[h] ^= s1[h];
        s1[h] ^= s2[h];
        s0[h] ^= s3[h];
        s2[h] ^= t;
        s3[h] = (s3[h] << 11) | (s3[h] >> 21);
      }
    }
    for (size_t i = 0; i < padded; ++i) {
      // Signed conversions and truncation instead of floor (zeta >= 0):
      // those vectorise, unsigned conversion and std::floor do not.
      const float u =
          static_cast<float>(static_cast<int32_t>(random[i] >> 8)) * 0x1p-24F;
      const float value = x[i];
      const float zeta = std::fabs(value) * pre[i] * inv[i];
      const int floor_zeta = static_cast<int>(zeta);
      const float fraction = zeta - static_cast<float>(floor_zeta);
      const int level = std::min(floor_zeta + (u < fraction ? 1 : 0), kLevels);
      const uint32_t sign = std::bit_cast<uint32_t>(value) >> 31;
      codes[i] = static_cast<Code<B>>(static_cast<uint32_t>(level) |
                                      (sign << (B - 1)));
    }
    const size_t offset = begin / 8 * B;
    PackBlock<B>(codes, n, out + offset, payload_bytes - offset);
  }
  std::memcpy(rng->state[0], s0, sizeof(s0));
  std::memcpy(rng->state[1], s1, sizeof(s1));
  std::memcpy(rng->state[2], s2, sizeof(s2));
  std::memcpy(rng->state[3], s3, sizeof(s3));
}

// Decodes the payload at `in` into out[0, dim), with the bucket norms as
// the little-endian floats at `norm_bytes`: |value| = l * scale_k * post_k,
// clamped to FLT_MAX (l * (norm / s) can round a hair above norm). Returns
// false when padding bits are set.
template <int B>
bool DecodeAll(const uint8_t* in, size_t dim, const uint8_t* norm_bytes,
               size_t bucket, float* out) {
  constexpr int kLevels = QuantizationLevels(B);
  constexpr auto kLevelMask = static_cast<uint32_t>(kLevels);
  constexpr float kMax = std::numeric_limits<float>::max();
  const size_t payload_bytes = PayloadBytes(dim, B);
  alignas(64) Code<B> codes[kBlock];
  alignas(64) float scale[kBlock];
  alignas(64) float post[kBlock];
  const auto factors_of = [norm_bytes](size_t k) {
    const DecodeFactors f =
        DecodeFactorsOf(ReadFloat(norm_bytes + k * sizeof(float)), kLevels);
    return std::pair(f.scale, f.post);
  };
  for (size_t begin = 0; begin < dim; begin += kBlock) {
    const size_t n = std::min(kBlock, dim - begin);
    const size_t offset = begin / 8 * B;
    if (!UnpackBlock<B>(in + offset, n, codes, payload_bytes - offset)) {
      return false;
    }
    FillFactors(begin, n, bucket, factors_of, scale, post);
    float* y = out + begin;
    for (size_t j = 0; j < n; ++j) {
      const uint32_t code = codes[j];
      const auto level =
          static_cast<float>(static_cast<int32_t>(code & kLevelMask));
      const float magnitude = std::min(level * scale[j], kMax) * post[j];
      y[j] = (code >> (B - 1)) != 0 ? -magnitude : magnitude;
    }
  }
  return true;
}

// Calls EncodeAll<bits> or DecodeAll<bits>: the bit width becomes a
// compile-time constant so the packing loops unroll.
template <int B = kMinQuantizedBits>
void DispatchEncode(int bits, const float* values, size_t dim,
                    const float* norms, size_t bucket, QuantizationRng* rng,
                    uint8_t* out) {
  if constexpr (B <= kMaxQuantizedBits) {
    if (bits == B) return EncodeAll<B>(values, dim, norms, bucket, rng, out);
    DispatchEncode<B + 1>(bits, values, dim, norms, bucket, rng, out);
  }
}

template <int B = kMinQuantizedBits>
bool DispatchDecode(int bits, const uint8_t* in, size_t dim,
                    const uint8_t* norm_bytes, size_t bucket, float* out) {
  if constexpr (B <= kMaxQuantizedBits) {
    if (bits == B) return DecodeAll<B>(in, dim, norm_bytes, bucket, out);
    return DispatchDecode<B + 1>(bits, in, dim, norm_bytes, bucket, out);
  }
  return false;
}

// The sum of squares of `values` in double. Eight partial sums let the
// compiler vectorise without reassociating.
double SumOfSquares(std::span<const float> values) {
  double partial[8] = {};
  const size_t size = values.size();
  const size_t full = size / 8 * 8;
  for (size_t i = 0; i < full; i += 8) {
    for (size_t j = 0; j < 8; ++j) {
      const double x = values[i + j];
      partial[j] += x * x;
    }
  }
  for (size_t i = full; i < size; ++i) {
    const double x = values[i];
    partial[i - full] += x * x;
  }
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

}  // namespace

int64_t QuantizationBucketSize(int64_t dim, int64_t bucket) {
  return bucket == 0 || bucket > dim ? dim : bucket;
}

int64_t QuantizationBucketCount(int64_t dim, int64_t bucket_size) {
  return dim / bucket_size + (dim % bucket_size != 0 ? 1 : 0);
}

size_t QuantizedSize(int64_t dim, int bits, int64_t bucket_size) {
  return kQuantizedHeaderBytes +
         sizeof(float) *
             static_cast<size_t>(QuantizationBucketCount(dim, bucket_size)) +
         PayloadBytes(static_cast<size_t>(dim), bits);
}

QuantizationRng::QuantizationRng(uint64_t seed) {
  std::mt19937_64 seeder(seed);
  for (int lane = 0; lane < kLanes; ++lane) {
    uint32_t any = 0;
    for (auto& word : state) {
      word[lane] = static_cast<uint32_t>(seeder() >> 32);
      any |= word[lane];
    }
    // xoshiro's all-zero state is a fixed point.
    if (any == 0) state[0][lane] = 1;
  }
}

Status QuantizationNorms(std::span<const float> values, int64_t bucket_size,
                         std::string_view codec_name, std::vector<float>* norms,
                         double* norm) {
  ANCHORAGE_CHECK(bucket_size >= 1, "quantization bucket size below 1");
  const size_t size = values.size();
  const auto bucket = static_cast<size_t>(bucket_size);
  norms->resize(static_cast<size_t>(
      QuantizationBucketCount(static_cast<int64_t>(size), bucket_size)));
  double total = 0;
  for (size_t k = 0; k < norms->size(); ++k) {
    const size_t begin = k * bucket;
    const std::span<const float> part =
        values.subspan(begin, std::min(bucket, size - begin));
    const double sum = SumOfSquares(part);
    // Squares of finite floats cannot overflow a double sum, so a
    // non-finite sum means a non-finite value.
    if (!std::isfinite(sum)) {
      for (size_t i = 0; i < part.size(); ++i) {
        if (!std::isfinite(part[i])) {
          return Status::InvalidArgument(std::string(codec_name) +
                                         ": value at coordinate " +
                                         std::to_string(begin + i) + " is " +
                                         FormatValue(part[i]) + ", not finite");
        }
      }
    }
    // A sum of nonnegative terms rounds to at least its largest term, and
    // sqrt and the conversion to float are monotone, so the norm is >=
    // max |x_i| over its bucket.
    const double exact = std::sqrt(sum);
    const auto rounded = static_cast<float>(exact);
    if (!std::isfinite(rounded)) {
      return Status::InvalidArgument(
          std::string(codec_name) + ": norm " + FormatValue(exact) +
          " of bucket " + std::to_string(k) + " (coordinates " +
          std::to_string(begin) + " to " +
          std::to_string(begin + part.size() - 1) + ") overflows float32");
    }
    (*norms)[k] = rounded;
    total += sum;
  }
  *norm = std::sqrt(total);
  return Status::Ok();
}

void EncodeQuantized(std::span<const float> values,
                     std::span<const float> norms, int64_t bucket_size,
                     int bits, QuantizationRng* rng,
                     std::vector<uint8_t>* out) {
  ANCHORAGE_CHECK(bits >= kMinQuantizedBits && bits <= kMaxQuantizedBits,
                  "quantized bit width out of range");
  const size_t dim = values.size();
  const auto dim64 = static_cast<int64_t>(dim);
  ANCHORAGE_CHECK(
      bucket_size >= 1 && bucket_size <= std::max<int64_t>(1, dim64),
      "quantization bucket size out of range");
  ANCHORAGE_CHECK(static_cast<int64_t>(norms.size()) ==
                      QuantizationBucketCount(dim64, bucket_size),
                  "one norm per bucket expected");
  out->resize(QuantizedSize(dim64, bits, bucket_size));
  uint8_t* header = out->data();
  header[0] = kQuantizedMagic;
  header[1] = static_cast<uint8_t>(bits);
  const uint64_t fields[3] = {dim, static_cast<uint64_t>(bucket_size),
                              norms.size()};
  std::memcpy(header + 2, fields, sizeof(fields));
  std::memcpy(header + kQuantizedHeaderBytes, norms.data(),
              norms.size() * sizeof(float));
  uint8_t* payload =
      header + kQuantizedHeaderBytes + norms.size() * sizeof(float);
  DispatchEncode(bits, values.data(), dim, norms.data(),
                 static_cast<size_t>(bucket_size), rng, payload);
}

Status DecodeQuantized(std::span<const uint8_t> bytes,
                       std::string_view codec_name, int expected_bits,
                       int64_t bucket_size, std::span<float> out) {
  const std::string name(codec_name);
  if (bytes.size() < kQuantizedHeaderBytes) {
    return Status::DataLoss(
        name + " payload has " + std::to_string(bytes.size()) +
        " bytes, shorter than the " + std::to_string(kQuantizedHeaderBytes) +
        "-byte header");
  }
  if (bytes[0] == kQuantizedMagicVersion1) {
    return Status::DataLoss(
        name +
        " payload is quantized format version 1 (one norm for the "
        "whole vector, magic byte " +
        std::to_string(kQuantizedMagicVersion1) +
        "); this build reads version 2, with a norm per bucket");
  }
  if (bytes[0] != kQuantizedMagic) {
    return Status::DataLoss(name + " header has magic byte " +
                            std::to_string(bytes[0]) + ", expected " +
                            std::to_string(kQuantizedMagic));
  }
  const int bits = bytes[1];
  if (bits < kMinQuantizedBits || bits > kMaxQuantizedBits) {
    return Status::DataLoss(name + " header has bit width " +
                            std::to_string(bits) + ", outside [" +
                            std::to_string(kMinQuantizedBits) + ", " +
                            std::to_string(kMaxQuantizedBits) + "]");
  }
  if (expected_bits != 0 && bits != expected_bits) {
    return Status::DataLoss(name + " header has bit width " +
                            std::to_string(bits) + ", this codec uses " +
                            std::to_string(expected_bits));
  }
  uint64_t fields[3] = {};
  std::memcpy(fields, bytes.data() + 2, sizeof(fields));
  const auto [dim, bucket, buckets] = fields;
  if (dim != out.size()) {
    return Status::DataLoss(name + " header has dimension " +
                            std::to_string(dim) + ", expected " +
                            std::to_string(out.size()));
  }
  if (bucket < 1 || bucket > dim) {
    return Status::DataLoss(name + " header has bucket size " +
                            std::to_string(bucket) + ", outside [1, " +
                            std::to_string(dim) + "]");
  }
  if (bucket != static_cast<uint64_t>(bucket_size)) {
    return Status::DataLoss(name + " header has bucket size " +
                            std::to_string(bucket) + ", this codec uses " +
                            std::to_string(bucket_size));
  }
  const auto expected_buckets = static_cast<uint64_t>(
      QuantizationBucketCount(static_cast<int64_t>(dim), bucket_size));
  if (buckets != expected_buckets) {
    return Status::DataLoss(
        name + " header has " + std::to_string(buckets) +
        " buckets, expected " + std::to_string(expected_buckets) + " (" +
        std::to_string(dim) + " coordinates in buckets of " +
        std::to_string(bucket) + ")");
  }
  const size_t expected =
      QuantizedSize(static_cast<int64_t>(dim), bits, bucket_size);
  if (bytes.size() != expected) {
    return Status::DataLoss(
        name + " payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(kQuantizedHeaderBytes) + "-byte header + " +
        std::to_string(buckets) + " bucket norms + " + std::to_string(dim) +
        " coordinates at " + std::to_string(bits) + " bits)");
  }
  const uint8_t* norm_bytes = bytes.data() + kQuantizedHeaderBytes;
  for (size_t k = 0; k < buckets; ++k) {
    const float norm = ReadFloat(norm_bytes + k * sizeof(float));
    if (!std::isfinite(norm) || norm < 0.0F) {
      return Status::DataLoss(name + " bucket " + std::to_string(k) +
                              " has norm " + FormatValue(norm) +
                              ", not a finite value >= 0");
    }
  }
  if (!DispatchDecode(bits, norm_bytes + buckets * sizeof(float), dim,
                      norm_bytes, bucket, out.data())) {
    return Status::DataLoss(name +
                            " payload has nonzero padding bits after the "
                            "last coordinate");
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
