// A run's traffic in the terms of Ivkin et al. (2019), the Sketched SGD
// paper (ALGORITHMS.md 4): bytes per worker per round in each direction,
// what a sparse downlink would send instead of the dense anchors the
// service sends, and the paper's compression factor, which counts both
// directions.
//
// Thread-safety: free functions over their arguments.
#pragma once

#include <cstdint>

#include "common/config/run_config.h"
#include "compare/outcome.h"

namespace anchorage::compare {

// Bytes a sparse downlink spends per changed coordinate of an anchor
// version: its u32 index and its f32 value.
inline constexpr double kSparseBytesPerCoordinate = 8;

// The paper's compression factor of a run of `config` on a model of `dim`
// parameters whose anchor versions changed `anchor_changes` coordinates
// each (the mean; RunSummary::anchor_changes_mean): the numbers a dense
// round moves, d up and d down per worker, over the numbers the codec
// moves per worker and round, with k the coordinates a round applies
// (or a worker sends):
//   sketch       2d / (r c + P k + k)   the paper's own: the sketch and the
//                                       second round's P k values up, the
//                                       k-sparse update down
//   fetchsgd     2d / (r c + k)         no second round
//   global-topk  2d / (d + k)           v goes up densely
//   topk         2d / (k + u)           u = anchor_changes: the union of
//                                       the workers' top-k sets comes down
//                                       (with no server momentum or weight
//                                       decay, which would make it dense)
//   dense        1
// NaN for the other codecs and for dim < 1. Indices are not counted, as in
// the paper.
double PaperCompression(const config::RunConfig& config, int64_t dim,
                        double anchor_changes);

// Per worker and per anchor version (a round, in sync mode), from the
// run's summary: the bytes the workers sent up (envelopes and second
// rounds included) and the bytes the service sent down (dense anchors,
// queries and applied coordinates); NaN for a run of no version.
double UpBytesPerWorkerRound(const RunOutcome& run);
double DownBytesPerWorkerRound(const RunOutcome& run);

// What a sparse downlink would send each worker per anchor version: the
// changed coordinates, kSparseBytesPerCoordinate each.
double SparseDownBytesPerWorkerRound(const RunOutcome& run);

}  // namespace anchorage::compare
