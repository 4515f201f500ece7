// The stochastic uniform quantiser of QSGD (Alistarh et al. 2017) with one
// norm per bucket of consecutive coordinates, and its wire layout, shared by
// QsgdCodec (fixed bits) and DqsgdCodec (bits chosen per encode). Internal to
// anchorage::codec: the codecs are the interface.
//
// Wire layout, format version 2 (all integers and floats little-endian):
//
//   offset 0   u8   0x52: magic and format version 2 (0x51, version 1, had
//                   one norm for the whole vector and is refused)
//   offset 1   u8   B, bits per coordinate, in [2, 16]
//   offset 2   u64  d, the number of coordinates
//   offset 10  u64  m, the bucket size, in [1, d]
//   offset 18  u64  K, the number of buckets, = ceil(d / m)
//   offset 26  K f32 the bucket norms: norm k is |g_[k m, min((k + 1) m,
//   d))|_2,
//                   finite and >= 0
//   then       ceil(d * B / 8) bytes of bit-packed coordinates
//
// So a message is 26 + 4 ceil(d / m) + ceil(d B / 8) bytes. Coordinate i
// occupies bits [i * B, (i + 1) * B) of the payload read as one LSB-first bit
// stream (bit j of the stream is bit j % 8 of byte j / 8), whatever its
// bucket. Within its field, bits 0 .. B - 2 hold the level l in [0, s] with
// s = 2^(B-1) - 1, and bit B - 1 holds the sign (1 = negative). The value is
// sign * norm_(i / m) * l / s. Bits after the last field are zero.
//
// Each bucket is quantised on its own, so the decoded vector is unbiased and
// its variance is at most sum_k m_k / (4 s^2) |g_k|^2 <= m / (4 s^2) |g|^2
// (m_k the size of bucket k): the bound grows with the bucket, not with d.
//
// A level field has B - 1 bits, so it cannot exceed s: every bit pattern of
// the payload is a valid level. What a decoder can and does reject is the
// header (magic, B, d, m, K), a bucket norm, the message size and nonzero
// padding bits.
//
// Thread-safety: the functions are reentrant; a QuantizationRng belongs to
// one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace anchorage::codec {

inline constexpr uint8_t kQuantizedMagic = 0x52;
// The magic of format version 1, named in the error that refuses it.
inline constexpr uint8_t kQuantizedMagicVersion1 = 0x51;
inline constexpr size_t kQuantizedHeaderBytes = 26;
inline constexpr int kMinQuantizedBits = 2;
inline constexpr int kMaxQuantizedBits = 16;

// Returns s = 2^(bits - 1) - 1, the number of nonzero levels of a `bits`-bit
// coordinate.
constexpr int QuantizationLevels(int bits) {
  return (1 << (bits - 1)) - 1;
}

// Returns the bucket size m a codec of dimension `dim` (> 0) uses for the
// option value `bucket` (CodecOptions::qsgd_bucket, >= 0): `bucket`, or
// `dim` when `bucket` is 0 (one bucket) or larger than `dim`.
int64_t QuantizationBucketSize(int64_t dim, int64_t bucket);

// Returns K = ceil(dim / bucket_size), the number of buckets (bucket_size
// >= 1).
int64_t QuantizationBucketCount(int64_t dim, int64_t bucket_size);

// Returns the encoded size of `dim` coordinates at `bits` bits in buckets of
// `bucket_size`: the header, 4 bytes per bucket norm and ceil(dim * bits / 8)
// payload bytes.
size_t QuantizedSize(int64_t dim, int bits, int64_t bucket_size);

// The random stream of the stochastic rounding: 16 interleaved xoshiro128+
// generators (Blackman and Vigna), whose state is drawn from
// std::mt19937_64(seed). The 16 lanes step together, so the encode loop
// vectorises; drawing from mt19937_64 per coordinate would dominate the
// encode time. Each draw uses the top 24 bits of a lane's 32-bit output as a
// uniform u in [0, 1) on a grid of 2^-24, so P(u < p) differs from p by less
// than 2^-24: the quantiser is unbiased up to that grid.
class QuantizationRng {
 public:
  static constexpr int kLanes = 16;

  explicit QuantizationRng(uint64_t seed);

  // The four state words of each lane, mutated by EncodeQuantized.
  uint32_t state[4][kLanes] = {};
};

// Sets *norms to the L2 norm of each bucket of `bucket_size` (>= 1)
// consecutive values, each a float32 >= the largest |value| of its bucket
// (the sums of squares run in double), and *norm to |values|_2 in double.
// Resizes *norms to the bucket count, so a caller that keeps the vector
// allocates once. Returns InvalidArgument, prefixed with `codec_name`, when
// a value is not finite or a bucket's norm overflows float32.
Status QuantizationNorms(std::span<const float> values, int64_t bucket_size,
                         std::string_view codec_name, std::vector<float>* norms,
                         double* norm);

// Replaces *out with the header, bucket norms and payload of `values` at
// `bits` bits per coordinate (kMinQuantizedBits <= bits <=
// kMaxQuantizedBits) in buckets of `bucket_size`. `norms` must come from
// QuantizationNorms(values, bucket_size). Level l of coordinate i is
// floor(zeta) + Bernoulli(zeta - floor(zeta)) with zeta = |g_i| / norm_k * s
// (k = i / bucket_size), so E[decoded value] = g_i. Allocates only when *out
// must grow.
void EncodeQuantized(std::span<const float> values,
                     std::span<const float> norms, int64_t bucket_size,
                     int bits, QuantizationRng* rng, std::vector<uint8_t>* out);

// Decodes `bytes` (at any address) into `out` for a codec of dimension
// out.size() with buckets of `bucket_size`, the only bucket size accepted.
// `expected_bits` is the only bit width accepted, or 0 for any in
// [kMinQuantizedBits, kMaxQuantizedBits]. Returns DataLoss, prefixed with
// `codec_name`, naming the bad field and its value: short header, magic
// (format version), bit width, dimension, bucket size, bucket count, message
// size, a bucket norm or nonzero padding.
Status DecodeQuantized(std::span<const uint8_t> bytes,
                       std::string_view codec_name, int expected_bits,
                       int64_t bucket_size, std::span<float> out);

}  // namespace anchorage::codec
