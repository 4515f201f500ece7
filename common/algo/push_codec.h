// What a push carries, for every algorithm and codec. Minibatch SGD sends
// its mean gradient. The local methods send their model x; through a lossy
// codec they send the pseudo-gradient Δ = base − x instead, where base is
// the anchor the worker last adopted or pulled toward, and the server
// rebuilds x̂ = base − decode(Δ). Compressing Δ keeps the codec's error
// proportional to the round's progress rather than to the weights, and lets
// error feedback (top-k's residual, the sketch's accumulator) carry what
// was dropped into the next round. A lossless codec sends x itself, so the
// server sees the worker's model bit for bit.
//
// Templated on the scalar so the simulator's theory checks run the same
// path in double: a double push carries raw float64 values, which only a
// lossless codec (dense) may stand for (checked).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/algo/algorithm.h"
#include "common/base/status.h"
#include "common/codec/codec.h"

namespace anchorage::algo {

// Whether pushes of `algorithm` through `codec` are relative to the base
// anchor (then the server must know the base to decode them).
bool PushIsRelative(Algorithm algorithm, const codec::Codec& codec);

// The worker's side: owns its codec (and so its error-feedback state).
template <typename Scalar>
class BasicPushEncoder {
 public:
  BasicPushEncoder(Algorithm algorithm, std::unique_ptr<codec::Codec> codec);

  bool relative() const { return relative_; }
  codec::Codec& codec() { return *codec_; }
  const codec::Codec& codec() const { return *codec_; }

  // Encodes `contribution` (what WorkerRound::Contribution returned) into
  // *out; `base` is ignored unless relative(). A contribution of the right
  // size that the codec refuses (non-finite values, an accumulator that
  // would overflow) is FailedPrecondition saying the training diverged.
  Status Encode(std::span<const Scalar> base,
                std::span<const Scalar> contribution,
                std::vector<uint8_t>* out);

 private:
  std::unique_ptr<codec::Codec> codec_;
  bool relative_;
  std::vector<float> delta_;
};

using PushEncoder = BasicPushEncoder<float>;

// The server's side: decodes a push made by a BasicPushEncoder with the
// same algorithm and codec into `out`, the contribution. `base` is the
// anchor the push names as its base (unused unless relative). DataLoss
// when the bytes are malformed.
template <typename Scalar>
Status DecodePush(const codec::Codec& codec, bool relative,
                  std::span<const Scalar> base, std::span<const uint8_t> bytes,
                  std::span<Scalar> out);

}  // namespace anchorage::algo
