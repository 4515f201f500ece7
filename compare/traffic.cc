#include "compare/traffic.h"

#include <limits>

#include "common/codec/codec.h"
#include "common/codec/topk_codec.h"

namespace anchorage::compare {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Bytes over worker-versions of `run`.
double PerWorkerRound(const RunOutcome& run, double bytes) {
  const double worker_rounds = static_cast<double>(run.summary.workers) *
                               static_cast<double>(run.summary.anchor_version);
  return worker_rounds > 0 ? bytes / worker_rounds : kNaN;
}

}  // namespace

double PaperCompression(const config::RunConfig& config, int64_t dim,
                        double anchor_changes) {
  const std::string& codec = config.train.codec;
  if (dim < 1) return kNaN;
  const codec::CodecOptions& options = config.codec_options;
  const auto d = static_cast<double>(dim);
  const auto k = static_cast<double>(
      codec::TopKCodec::CoordinatesFor(dim, options.topk_fraction));
  if (codec == "dense") return 1.0;
  if (codec == "global-topk") return 2 * d / (d + k);
  if (codec == "topk") return 2 * d / (k + anchor_changes);
  if (codec == "sketch" || codec == "fetchsgd") {
    const codec::SketchShape shape = codec::SketchShapeFor(codec, dim, options);
    const double cells =
        static_cast<double>(shape.rows) * static_cast<double>(shape.columns);
    const double second_round =
        codec == "sketch" ? options.sketch_candidates * k : 0.0;
    return 2 * d / (cells + second_round + k);
  }
  return kNaN;
}

double UpBytesPerWorkerRound(const RunOutcome& run) {
  return PerWorkerRound(run, static_cast<double>(run.summary.bytes_up));
}

double DownBytesPerWorkerRound(const RunOutcome& run) {
  return PerWorkerRound(run, static_cast<double>(run.summary.bytes_down));
}

double SparseDownBytesPerWorkerRound(const RunOutcome& run) {
  return kSparseBytesPerCoordinate * run.summary.anchor_changes_mean;
}

}  // namespace anchorage::compare
