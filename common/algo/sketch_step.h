// The round-level step of the sketched codecs (sketch, fetchsgd), shared by
// the server and the simulator. Their pushes are not decoded one by one:
// the server sums the round's sketches and, for sketch, asks every
// contributor for its exact values at the P k candidates (the second
// round); the k-sparse update that results is folded into the aggregator's
// open round. Each contributor submits a placeholder to the aggregator, its
// base anchor for the local methods (zeros for minibatch SGD's gradients),
// and Finish() then moves the round's sum by −update (or +update), so the
// round's mean becomes mean(base) − update / n (or update / n), and every
// outer rule applies unchanged. Needs sync aggregation.
//
// Per round: Begin(); AddSketch() per push; for sketch, Candidates() to
// every contributor and AddExact() per answer; Finish().
//
// Not thread-safe: owned by the server's or the simulator's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/algo/aggregator.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/codec/sketch_round.h"

namespace anchorage::algo {

class SketchStep {
 public:
  // A step for pushes made with `codec`, or nullptr unless it is a sketch
  // or fetchsgd codec. `relative` as PushIsRelative (push_codec.h);
  // `momentum` is fetchsgd's server momentum rho.
  static std::unique_ptr<SketchStep> For(const codec::Codec& codec,
                                         bool relative, double momentum);

  // Whether the round needs the workers' exact values (sketch).
  bool asks_exact_values() const { return sketched_ != nullptr; }

  void Begin();
  // Adds a push's sketch to the round; DataLoss or InvalidArgument naming
  // the problem (malformed, other shape or seed), the round unchanged.
  Status AddSketch(std::span<const uint8_t> bytes);
  // sketch: the coordinates to ask every contributor about.
  const std::vector<uint32_t>& Candidates();
  // sketch: adds a contributor's exact values at the candidates
  // (little-endian f32); DataLoss naming the problem, nothing added.
  Status AddExact(std::span<const uint8_t> bytes);
  // Computes the round's k-sparse update and adds it into `aggregator`'s
  // open round. Returns the updated coordinates, increasing, valid until the
  // next Begin(): sketch workers zero their accumulators there.
  const std::vector<uint32_t>& Finish(Aggregator* aggregator);

  // What a push submits to the aggregator in place of its contribution.
  void Placeholder(std::span<const float> base, std::span<float> out) const;

 private:
  SketchStep(std::unique_ptr<codec::SketchedSgdRound> sketched,
             std::unique_ptr<codec::FetchSgdServer> fetch, bool relative);

  std::unique_ptr<codec::SketchedSgdRound> sketched_;
  std::unique_ptr<codec::FetchSgdServer> fetch_;
  bool relative_;
  std::vector<uint32_t> indices_;
  std::vector<float> values_;
};

}  // namespace anchorage::algo
