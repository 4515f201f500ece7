// RunSummary: one run's result, as `anchorage server`, `anchorage simulate`
// and `anchorage demo` write it with --summary-json, and as `anchorage
// compare` reads the demo's back: the run's settings, its final numbers and
// the anchor's evaluations along the way.
//
// The file is one JSON object with the keys named as the fields below, in
// their order, plus two keys derived on writing and ignored on reading:
// virtual_seconds (simulated runs only, equal to wall_seconds) and
// compression_ratio. demo_wall_seconds, training_seconds, startup_seconds
// and first_steps_unix_seconds are written only when set. A number that
// is not finite (the loss of a diverged run) is written as null and read
// back as NaN, so every summary is valid JSON.
//
// Thread-safety: plain values and free functions over their arguments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/algo/anchor_round.h"
#include "common/base/status.h"
#include "common/config/run_config.h"

namespace anchorage::summary {

// One evaluation of the anchor on the held-out data.
struct Evaluation {
  double seconds = 0;  // since the start (simulated runs: virtual seconds)
  uint64_t version = 0;
  double accuracy = 0;
  double loss = 0;

  friend bool operator==(const Evaluation&, const Evaluation&) = default;
};

struct RunSummary {
  // The run's settings (SetRunSettings fills them from its RunConfig);
  // aggregation is "sync" or "async".
  std::string algorithm;
  std::string aggregation;
  int workers = 0;
  std::string dataset;
  std::string model;
  std::string codec;
  std::string partition;
  int local_steps = 0;
  double alpha = 0;
  double beta = 0;
  double lr = 0;
  int batch_size = 0;
  uint64_t seed = 0;
  // True for `anchorage simulate`: every time below is virtual seconds.
  bool simulated = false;

  // The final anchor's version and its evaluation on the test set; the
  // workers' recent training loss, averaged over the workers.
  uint64_t anchor_version = 0;
  double test_accuracy = 0;
  double test_loss = 0;
  double train_loss = 0;
  // Seconds of the run (the server's: from its start, the workers' start-up
  // included); the demo adds its own wall time, start-up and teardown of
  // the processes included.
  double wall_seconds = 0;
  std::optional<double> demo_wall_seconds;
  // Seconds of training: from the first local step of any worker to the
  // end of training (the final evaluation not included). Unset until a
  // worker has reported one, and in simulations.
  std::optional<double> training_seconds;
  // Start-up: seconds from the start until every worker had begun its
  // first local step (the server's summary: from its run's start; the
  // demo's: from the demo's launch), and that moment as unix time. Unset
  // until every expected worker has reported one, and in simulations.
  std::optional<double> startup_seconds;
  std::optional<double> first_steps_unix_seconds;
  // Training examples processed by all workers, and as epochs.
  double epochs = 0;
  int64_t samples = 0;
  // Wire bytes workers -> server and back, and the pushes as dense float32.
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  int64_t raw_bytes_up = 0;
  // Mean bits per coordinate of the workers' quantized pushes (qsgd, dqsgd:
  // the sign and level bits B, not the header or bucket norms), pooled over
  // the pushes each worker's current process has sent; 0 for other codecs.
  double quantization_bits_mean = 0;
  // Simulated runs: the mean over the anchor versions of how many
  // coordinates each version changed from the previous one (with a sparse
  // update and no server momentum or weight decay, the size of the update:
  // the union of the workers' local top-k sets, or the k a sketch round
  // applies), so 8 bytes per changed coordinate (index and value) is what
  // a sparse downlink would send each worker per version. 0 from the
  // server, which does not measure it.
  double anchor_changes_mean = 0;
  // Pushes folded into the anchor, refused (bad contents), and dropped
  // because their round had closed; messages rejected as malformed or out
  // of protocol.
  int64_t pushes_applied = 0;
  int64_t pushes_rejected = 0;
  int64_t pushes_stale = 0;
  // Of the stale, the async pushes dropped for a base past --max-staleness.
  int64_t stale_dropped = 0;
  int64_t rejected_messages = 0;
  // The rejected messages by reason (the labels of
  // anchorage_server_rejected_messages_total).
  std::map<std::string, int64_t> rejected_by_reason;
  // Mean staleness of the applied pushes (anchor versions), and per worker
  // the mean of its total seconds blocked at sync points, computing local
  // steps and encoding pushes.
  double staleness_mean = 0;
  double sync_wait_seconds_mean = 0;
  double compute_seconds_mean = 0;
  double encode_seconds_mean = 0;
  // Workers declared lost and not back at the end; why the run stopped.
  std::vector<uint32_t> lost_workers;
  std::string stop_reason;
  // Times the server resumed this run from a checkpoint, and the anchor
  // version it last resumed from (0 when restarts is 0).
  int64_t restarts = 0;
  uint64_t resumed_from_version = 0;
  // In time order; the last one is the final anchor.
  std::vector<Evaluation> evaluations;

  // raw_bytes_up / bytes_up (0 when nothing was sent).
  double compression_ratio() const;
  // training_seconds, or the run's wall_seconds when it is unset.
  double seconds_of_training() const;
  // Samples per second of seconds_of_training(); 0 for a run of no time.
  double samples_per_second() const;

  // Field by field; a NaN is unequal to everything, itself included.
  friend bool operator==(const RunSummary&, const RunSummary&) = default;
};

// Sets the settings part of `summary` (algorithm through seed) from
// `config`; leaves every other field alone.
void SetRunSettings(const config::RunConfig& config, RunSummary* summary);

// Fills what the round core counts: anchor_version, epochs, samples,
// raw_bytes_up, the pushes, rejected_messages (the round's refusals),
// staleness_mean, the workers' reported compute, sync wait, encoding and
// train loss and quantization bits, lost_workers, and startup_seconds and
// first_steps_unix_seconds when the workers' first steps are known.
void SetRoundStats(const algo::RoundStats& stats, RunSummary* summary);

// Writes `summary` to `path` atomically (a reader never sees half a file).
// Returns Unavailable when it cannot be written.
Status WriteRunSummary(const std::string& path, const RunSummary& summary);

// Reads a summary written by WriteRunSummary. Returns DataLoss naming
// `path` and the problem: a missing file, text that is not JSON, or a key
// that is missing or holds a value of the wrong type.
StatusOr<RunSummary> ReadRunSummary(const std::string& path);

// nlohmann-json conversions, the format above (used through
// nlohmann::ordered_json's get<RunSummary>() and assignment). from_json
// throws nlohmann's exceptions on a missing or mistyped key.
void to_json(nlohmann::ordered_json& json, const Evaluation& evaluation);
void from_json(const nlohmann::ordered_json& json, Evaluation& evaluation);
void to_json(nlohmann::ordered_json& json, const RunSummary& summary);
void from_json(const nlohmann::ordered_json& json, RunSummary& summary);

}  // namespace anchorage::summary
