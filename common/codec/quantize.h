// The stochastic uniform quantiser of QSGD (Alistarh et al. 2017) and its
// wire layout, shared by QsgdCodec (fixed bits) and DqsgdCodec (bits chosen
// per encode). Internal to anchorage::codec: the codecs are the interface.
//
// Wire layout (all integers and floats little-endian):
//
//   offset 0   u8   0x51 ('Q'): magic and format version 1
//   offset 1   u8   B, bits per coordinate, in [2, 16]
//   offset 2   u64  dim, the number of coordinates
//   offset 10  f32  |g|_2, finite and >= 0
//   offset 14  ceil(dim * B / 8) bytes of bit-packed coordinates
//
// Coordinate i occupies bits [i * B, (i + 1) * B) of the payload read as one
// LSB-first bit stream (bit j of the stream is bit j % 8 of byte j / 8).
// Within its field, bits 0 .. B - 2 hold the level l in [0, s] with
// s = 2^(B-1) - 1, and bit B - 1 holds the sign (1 = negative). The value is
// sign * |g|_2 * l / s. Bits after the last field are zero.
//
// A level field has B - 1 bits, so it cannot exceed s: every bit pattern of
// the payload is a valid level. What a decoder can and does reject is the
// header (magic, B, dim, norm), the payload size and nonzero padding bits.
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

inline constexpr uint8_t kQuantizedMagic = 0x51;
inline constexpr size_t kQuantizedHeaderBytes = 14;
inline constexpr int kMinQuantizedBits = 2;
inline constexpr int kMaxQuantizedBits = 16;

// Returns s = 2^(bits - 1) - 1, the number of nonzero levels of a `bits`-bit
// coordinate.
constexpr int QuantizationLevels(int bits) {
  return (1 << (bits - 1)) - 1;
}

// Returns the encoded size of `dim` coordinates at `bits` bits: the header
// plus ceil(dim * bits / 8) payload bytes.
size_t QuantizedSize(int64_t dim, int bits);

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

// Sets *norm to |values|_2 as a float32 that is >= max |values_i| (the sum of
// squares runs in double). Returns InvalidArgument, prefixed with
// `codec_name`, when a value is not finite or the norm overflows float32.
Status QuantizationNorm(std::span<const float> values,
                        std::string_view codec_name, float* norm);

// Replaces *out with the header and payload of `values` at `bits` bits per
// coordinate (kMinQuantizedBits <= bits <= kMaxQuantizedBits). `norm` must
// come from QuantizationNorm(values). Level l of coordinate i is
// floor(zeta) + Bernoulli(zeta - floor(zeta)) with zeta = |g_i| / norm * s,
// so E[decoded value] = g_i. Allocates only when *out must grow.
void EncodeQuantized(std::span<const float> values, float norm, int bits,
                     QuantizationRng* rng, std::vector<uint8_t>* out);

// Decodes `bytes` (at any address) into `out` for a codec of dimension
// out.size(). `expected_bits` is the only bit width accepted, or 0 for any in
// [kMinQuantizedBits, kMaxQuantizedBits]. Returns DataLoss, prefixed with
// `codec_name`, naming the bad field and its value: short header, magic, bit
// width, dimension, norm, payload size or nonzero padding.
Status DecodeQuantized(std::span<const uint8_t> bytes,
                       std::string_view codec_name, int expected_bits,
                       std::span<float> out);

}  // namespace anchorage::codec
