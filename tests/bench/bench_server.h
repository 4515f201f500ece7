// The server the aggregation benchmarks push to: `clients` workers of an
// mlp:`hidden` on synthetic data (43·hidden + 10 parameters), no budget
// and no periodic evaluation, bound to an ephemeral loopback port.
#pragma once

#include <string>

#include "common/config/run_config.h"
#include "common/data/dataset.h"

namespace anchorage::bench {

inline config::RunConfig AggregationServerConfig(int clients, int hidden) {
  config::RunConfig config;
  config.train.workers = clients;
  config.train.dataset = data::DatasetKind::kSyntheticGaussian;
  config.train.model = "mlp:" + std::to_string(hidden);
  config.train.epochs = 0;
  config.train.max_versions = 0x7fffffff;
  config.server.bind = "tcp://127.0.0.1:*";
  config.server.eval_interval_seconds = 0;
  config.server.eval_examples = 100;
  return config;
}

}  // namespace anchorage::bench
