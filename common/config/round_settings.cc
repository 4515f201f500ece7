#include "common/config/round_settings.h"

#include <algorithm>

namespace anchorage::config {

int64_t PublishEvery(const RunConfig& config) {
  if (config.server.publish_every > 0) return config.server.publish_every;
  return std::max<int64_t>(1, (config.train.workers + 15) / 16);
}

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
          .batch_size = train.batch_size,
          .publish_every = PublishEvery(config),
          .max_staleness = config.server.max_staleness,
          .staleness_weight = config.server.staleness_weight,
          .reply_wait = config.server.reply_wait,
          .anchor_codec = config.server.anchor_codec,
          .start_wait_seconds = config.server.start_wait_seconds};
}

}  // namespace anchorage::config
