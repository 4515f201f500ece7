// The round core's options for a run: what the server and the simulator
// both hand algo::AnchorRound, so they decide alike.
#pragma once

#include <cstdint>

#include "common/algo/anchor_round.h"
#include "common/config/run_config.h"

namespace anchorage::config {

// `train_size` examples make one epoch.
// Async mode's versions between published anchors: --publish-every, or
// one per workers/16 pushes (at least 1), so a run of m workers keeps about
// 16 snapshots a round of pushes, not m.
int64_t PublishEvery(const RunConfig& config);

algo::AnchorRoundOptions RoundSettings(const RunConfig& config,
                                       int64_t train_size);

}  // namespace anchorage::config
