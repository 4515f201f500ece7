// The round core's options for a run: what the server and the simulator
// both hand algo::AnchorRound, so they decide alike.
#pragma once

#include <cstdint>

#include "common/algo/anchor_round.h"
#include "common/config/run_config.h"

namespace anchorage::config {

// `train_size` examples make one epoch.
algo::AnchorRoundOptions RoundSettings(const RunConfig& config,
                                       int64_t train_size);

}  // namespace anchorage::config
