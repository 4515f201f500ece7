#include "common/config/round_settings.h"

namespace anchorage::config {

algo::AnchorRoundOptions RoundSettings(const RunConfig& config,
                                       int64_t train_size) {
  const TrainOptions& train = config.train;
  return {.algorithm = train.algorithm,
          .aggregator = AggregatorSettings(config),
          .workers = train.workers,
          .round_deadline_seconds = config.server.round_deadline_seconds,
          .quorum = config.server.quorum,
          .local_steps = train.local_steps,
          .schedule = train.LocalOptimizer(train.StepsPerEpoch(train_size)),
          .examples_per_epoch = train_size,
          .epochs = train.epochs,
          .max_versions = train.max_versions,
          .bound = {.max_norm = config.server.max_update_norm,
                    .factor = config.server.update_norm_factor},
          .batch_size = train.batch_size};
}

}  // namespace anchorage::config
