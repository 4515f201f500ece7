// The tensor payload codec interface: how a float32 vector becomes the bytes
// of a payload frame and back. Each codec is one file behind this interface
// and one line in codec.cc's registry.
//
// Encode may keep state (error feedback, step counters), so a codec instance
// belongs to one sender. Decode is const and safe to call concurrently.
//
// Most codecs' messages are decoded one at a time. A codec whose messages
// are decided on the whole round (the sketches) says so through
// NewRoundProtocol(), and its senders answer that round's second half
// through ExactValues() and Applied(); nobody needs to know which codec it
// is.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/enum_names.h"
#include "common/base/status.h"
#include "common/codec/count_sketch.h"
#include "common/codec/round_protocol.h"

namespace anchorage::codec {

class Codec {
 public:
  virtual ~Codec() = default;

  // The name used on the command line and on the wire ("dense").
  virtual std::string_view name() const = 0;

  // Replaces *out with the encoding of `values` (size = the codec's
  // dimension). Returns InvalidArgument on a size mismatch.
  virtual Status Encode(std::span<const float> values,
                        std::vector<uint8_t>* out) = 0;

  // Decodes `bytes` into `out` (size = the codec's dimension). `bytes` may be
  // at any address. Returns DataLoss naming the problem when the bytes are
  // malformed (wrong size, out-of-range fields); `out` is then unspecified.
  virtual Status Decode(std::span<const uint8_t> bytes,
                        std::span<float> out) const = 0;

  // Bits per coordinate of the last encode of a quantizing codec (qsgd,
  // dqsgd); 0 for the others.
  virtual int quantization_bits() const { return 0; }

  // What a receiver must share with this sender, beyond the codec's name,
  // to decode its messages; empty when each message's header says it all.
  virtual std::string settings() const { return ""; }

  // Whether Decode(Encode(v)) == v bit for bit.
  virtual bool lossless() const { return false; }

  // The server's side of a round when this codec's messages are decided on
  // the whole round (round_protocol.h); nullptr when each message decodes
  // on its own (then Decode is how the server reads it).
  virtual std::unique_ptr<RoundProtocol> NewRoundProtocol() const {
    return nullptr;
  }
  // The sender's side of a round protocol that asks_values(): writes this
  // sender's values at `indices` (from the server) to `out` (same size).
  // DataLoss naming an index out of range; FailedPrecondition for a codec
  // whose rounds ask nothing.
  virtual Status ExactValues(std::span<const uint32_t> indices,
                             std::span<float> out) const;
  // The coordinates the round applied, which a sender with error feedback
  // clears (DataLoss naming an index out of range, nothing cleared); a
  // no-op for the others.
  virtual Status Applied(std::span<const uint32_t> /*indices*/) {
    return Status::Ok();
  }

  // Bytes a dense float32 encoding of the same vector takes.
  int64_t raw_bytes() const {
    return dim() * static_cast<int64_t>(sizeof(float));
  }
  virtual int64_t dim() const = 0;
};

// DQ-SGD's bit rule (CodecOptions::dqsgd_rule).
enum class DqsgdRule { kNonconvex, kStronglyConvex };

inline constexpr EnumName<DqsgdRule> kDqsgdRuleNames[] = {
    {DqsgdRule::kNonconvex, "nonconvex"},
    {DqsgdRule::kStronglyConvex, "strongly-convex"},
};

// Parameters of the compressed codecs. Each codec reads only its own fields;
// the defaults give a working codec for every name.
struct CodecOptions {
  // qsgd: bits per coordinate B in [2, 16] (1 sign bit + B - 1 level bits,
  // s = 2^(B-1) - 1 levels). dqsgd: the bit budget when `bit_budget` is 0.
  int bits = 4;

  // qsgd, dqsgd: values per bucket, >= 0; each bucket of that many
  // consecutive coordinates is quantised with its own norm, so the variance
  // bound is m / (4 s^2) |g|^2 for buckets of m instead of d / (4 s^2)
  // |g|^2. 0 (or a value >= the dimension) makes one bucket of the whole
  // vector. 512 is the bucket of QSGD's 4-bit experiments (Alistarh et al.
  // 2017) and costs 32 / 512 = 1/16 bit per coordinate for the norms.
  int64_t qsgd_bucket = 512;

  // topk: fraction of the coordinates sent per encode, in (0, 1];
  // sketch, fetchsgd, global-topk: of the coordinates a round applies;
  // k = max(1, round(topk_fraction * dim)).
  double topk_fraction = 0.01;

  // dqsgd: the bit rule of Yan et al. 2021, nonconvex
  //   B_n = log2(t * |g_n| + 1) + 1
  // or strongly-convex
  //   B_n = log2(k * alpha^((N - n) / 2) * |g_n| + 1) + 1,
  //   alpha = 1 - 2 mu eta + L mu eta^2,
  // rounded up and clamped to [2, 16]; n counts the codec's encodes from 1.
  DqsgdRule dqsgd_rule = DqsgdRule::kNonconvex;
  // dqsgd: N, the planned number of encodes (training steps), >= 1.
  int64_t dqsgd_total_steps = 1000;
  // dqsgd: t (nonconvex) or k (strongly-convex), >= 0. 0 (the default)
  // adapts it from the bits the encodes spend so that their mean lands on
  // the budget (see dqsgd_codec.h); a positive value fixes it, and the
  // budget is not used.
  double dqsgd_scale = 0;
  // dqsgd: the mean bits per coordinate over the codec's encodes, in
  // [2, 16]; 0 means `bits`. Any real value: 4.5 spends 4.5 on average.
  double bit_budget = 0;
  // dqsgd, strongly-convex rule: the strong convexity mu > 0 and smoothness
  // L >= mu of the objective, with the learning rate eta in (0, 2 / L),
  // which make 0 < alpha < 1 unless alpha = 0 (rejected). mu and L shape
  // the schedule alpha^((N - n) / 2) only; the budget sets its level.
  double dqsgd_mu = 0.1;
  double dqsgd_l = 1.0;
  double dqsgd_learning_rate = 0.1;  // eta

  // qsgd, dqsgd: seed of the per-instance random stream (stochastic
  // rounding). Equal seeds and inputs give equal bytes.
  uint64_t seed = 1;

  // sketch, fetchsgd: a count sketch of `sketch_rows` x `sketch_columns`
  // cells (0 columns = sketch_columns_per_k times k, k from topk_fraction;
  // 0 of those = 10 for sketch, 40 for fetchsgd), hashed with
  // `sketch_seed`, which every sender and the server must share.
  int sketch_rows = 5;
  int64_t sketch_columns = 0;
  int64_t sketch_columns_per_k = 0;
  uint64_t sketch_seed = 1;
  // sketch: the server asks for exact values at the P k heavy-hitter
  // candidates of the summed sketch (P = sketch_candidates >= 1), and the
  // worker keeps momentum rho in [0, 1) before error accumulation;
  // global-topk and topk: the same worker momentum rho (topk zeroes it
  // where it sent); fetchsgd: the server's momentum rho in sketch space
  // (the command line makes it 0.9 for minibatch SGD; config/flags.h).
  int sketch_candidates = 4;
  double sketch_momentum = 0;
};

// Dense float32 bytes over wire bytes (0 when nothing was sent).
inline double CompressionRatio(int64_t raw_bytes, int64_t wire_bytes) {
  return wire_bytes > 0
             ? static_cast<double>(raw_bytes) / static_cast<double>(wire_bytes)
             : 0.0;
}

// Returns the codec called `name` for vectors of `dim` floats, or
// InvalidArgument naming the value and the known codecs, or the failure of
// ValidateCodecOptions(name, options).
StatusOr<std::unique_ptr<Codec>> MakeCodec(std::string_view name, int64_t dim,
                                           const CodecOptions& options = {});

// The registered codecs' names, in registry order (new codecs are added at
// the end, so an index into it names the same codec across versions).
std::vector<std::string_view> CodecNames();

// The count sketch codec `name` (sketch or fetchsgd) builds for vectors of
// `dim` floats with `options`, which must pass ValidateCodecOptions.
SketchShape SketchShapeFor(std::string_view name, int64_t dim,
                           const CodecOptions& options);

// Returns InvalidArgument unless `name` is a known codec.
Status ValidateCodecName(std::string_view name);

// Whether codec `name` decides its messages on the whole round
// (NewRoundProtocol is not null), which needs the server's sync rounds;
// false for an unknown name.
bool DecidesOnTheRound(std::string_view name);

// Returns InvalidArgument naming the field and its value when `options` has
// a field out of range for codec `name` (only the fields that codec reads
// are checked), or the failure of ValidateCodecName(name).
Status ValidateCodecOptions(std::string_view name, const CodecOptions& options);

}  // namespace anchorage::codec
