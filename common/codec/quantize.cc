#include "common/codec/quantize.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

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

// Quantises `dim` values into the payload at `out`. Level l_i =
// floor(zeta_i) + [u_i < frac(zeta_i)] with zeta_i = |x_i| * pre * inv,
// clamped to s because rounding can push zeta_i a few ulps above s.
template <int B>
void EncodeAll(const float* values, size_t dim, float pre, float inv,
               QuantizationRng* rng, uint8_t* out) {
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
  alignas(64) uint32_t random[kBlock];
  alignas(64) Code<B> codes[kBlock];
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
      const float zeta = std::fabs(value) * pre * inv;
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

// Decodes the payload at `in` into out[0, dim): |value| = l * scale * post,
// clamped to FLT_MAX (l * (norm / s) can round a hair above norm). Returns
// false when padding bits are set.
template <int B>
bool DecodeAll(const uint8_t* in, size_t dim, float scale, float post,
               float* out) {
  constexpr uint32_t kLevelMask = QuantizationLevels(B);
  constexpr float kMax = std::numeric_limits<float>::max();
  const size_t payload_bytes = PayloadBytes(dim, B);
  alignas(64) Code<B> codes[kBlock];
  for (size_t begin = 0; begin < dim; begin += kBlock) {
    const size_t n = std::min(kBlock, dim - begin);
    const size_t offset = begin / 8 * B;
    if (!UnpackBlock<B>(in + offset, n, codes, payload_bytes - offset)) {
      return false;
    }
    float* y = out + begin;
    for (size_t j = 0; j < n; ++j) {
      const uint32_t code = codes[j];
      const auto level =
          static_cast<float>(static_cast<int32_t>(code & kLevelMask));
      const float magnitude = std::min(level * scale, kMax) * post;
      y[j] = (code >> (B - 1)) != 0 ? -magnitude : magnitude;
    }
  }
  return true;
}

// Calls EncodeAll<bits> or DecodeAll<bits>: the bit width becomes a
// compile-time constant so the packing loops unroll.
template <int B = kMinQuantizedBits>
void DispatchEncode(int bits, const float* values, size_t dim, float pre,
                    float inv, QuantizationRng* rng, uint8_t* out) {
  if constexpr (B <= kMaxQuantizedBits) {
    if (bits == B) return EncodeAll<B>(values, dim, pre, inv, rng, out);
    DispatchEncode<B + 1>(bits, values, dim, pre, inv, rng, out);
  }
}

template <int B = kMinQuantizedBits>
bool DispatchDecode(int bits, const uint8_t* in, size_t dim, float scale,
                    float post, float* out) {
  if constexpr (B <= kMaxQuantizedBits) {
    if (bits == B) return DecodeAll<B>(in, dim, scale, post, out);
    return DispatchDecode<B + 1>(bits, in, dim, scale, post, out);
  }
  return false;
}

}  // namespace

size_t QuantizedSize(int64_t dim, int bits) {
  return kQuantizedHeaderBytes + PayloadBytes(static_cast<size_t>(dim), bits);
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

Status QuantizationNorm(std::span<const float> values,
                        std::string_view codec_name, float* norm) {
  // Eight partial sums let the compiler vectorise without reassociating.
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
  const double sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                     ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  // Squares of finite floats cannot overflow a double sum, so a non-finite
  // sum means a non-finite value.
  if (!std::isfinite(sum)) {
    for (size_t i = 0; i < size; ++i) {
      if (!std::isfinite(values[i])) {
        return Status::InvalidArgument(std::string(codec_name) +
                                       ": value at coordinate " +
                                       std::to_string(i) + " is " +
                                       FormatValue(values[i]) + ", not finite");
      }
    }
  }
  // A sum of nonnegative terms rounds to at least its largest term, and
  // sqrt and the conversion to float are monotone, so *norm >= max |x_i|.
  const double exact = std::sqrt(sum);
  const auto rounded = static_cast<float>(exact);
  if (!std::isfinite(rounded)) {
    return Status::InvalidArgument(std::string(codec_name) + ": norm " +
                                   FormatValue(exact) + " overflows float32");
  }
  *norm = rounded;
  return Status::Ok();
}

void EncodeQuantized(std::span<const float> values, float norm, int bits,
                     QuantizationRng* rng, std::vector<uint8_t>* out) {
  ANCHORAGE_CHECK(bits >= kMinQuantizedBits && bits <= kMaxQuantizedBits,
                  "quantized bit width out of range");
  const size_t dim = values.size();
  out->resize(QuantizedSize(static_cast<int64_t>(dim), bits));
  uint8_t* header = out->data();
  header[0] = kQuantizedMagic;
  header[1] = static_cast<uint8_t>(bits);
  const uint64_t dim64 = dim;
  std::memcpy(header + 2, &dim64, sizeof(dim64));
  std::memcpy(header + 10, &norm, sizeof(norm));
  uint8_t* payload = header + kQuantizedHeaderBytes;
  if (norm == 0.0F) {
    std::fill(payload, out->data() + out->size(), uint8_t{0});
    return;
  }
  // s / norm overflows float for norms below ~s / FLT_MAX; scaling both
  // |x_i| and the norm by 2^100 (exact) keeps zeta in range.
  const float pre = norm < 0x1p-100F ? 0x1p100F : 1.0F;
  const auto inv = static_cast<float>(QuantizationLevels(bits) /
                                      (static_cast<double>(norm) * pre));
  DispatchEncode(bits, values.data(), dim, pre, inv, rng, payload);
}

Status DecodeQuantized(std::span<const uint8_t> bytes,
                       std::string_view codec_name, int expected_bits,
                       std::span<float> out) {
  const std::string name(codec_name);
  if (bytes.size() < kQuantizedHeaderBytes) {
    return Status::DataLoss(
        name + " payload has " + std::to_string(bytes.size()) +
        " bytes, shorter than the " + std::to_string(kQuantizedHeaderBytes) +
        "-byte header");
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
  uint64_t dim = 0;
  std::memcpy(&dim, bytes.data() + 2, sizeof(dim));
  if (dim != out.size()) {
    return Status::DataLoss(name + " header has dimension " +
                            std::to_string(dim) + ", expected " +
                            std::to_string(out.size()));
  }
  float norm = 0;
  std::memcpy(&norm, bytes.data() + 10, sizeof(norm));
  if (!std::isfinite(norm) || norm < 0.0F) {
    return Status::DataLoss(name + " header has norm " + FormatValue(norm) +
                            ", not a finite value >= 0");
  }
  const size_t expected = QuantizedSize(static_cast<int64_t>(dim), bits);
  if (bytes.size() != expected) {
    return Status::DataLoss(
        name + " payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(kQuantizedHeaderBytes) + "-byte header + " +
        std::to_string(dim) + " coordinates at " + std::to_string(bits) +
        " bits)");
  }
  // norm / s would be subnormal, and lose precision, for norms below
  // ~2^-100; compute with the norm scaled by 2^100 and scale back last.
  const bool tiny = norm < 0x1p-100F;
  const float post = tiny ? 0x1p-100F : 1.0F;
  const auto scale =
      static_cast<float>(static_cast<double>(norm) * (tiny ? 0x1p100 : 1.0) /
                         QuantizationLevels(bits));
  if (!DispatchDecode(bits, bytes.data() + kQuantizedHeaderBytes, dim, scale,
                      post, out.data())) {
    return Status::DataLoss(name +
                            " payload has nonzero padding bits after the "
                            "last coordinate");
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
