#include "server/memory_bound.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "common/config/round_settings.h"

namespace anchorage::server {

MemoryBound ServerMemoryBound(const config::RunConfig& config, int64_t dim,
                              int64_t push_bytes, bool relative,
                              int64_t data_bytes) {
  const int64_t workers = config.train.workers;
  const bool async = config.server.ResolvedAggregation(config.train) ==
                     algo::AggregationMode::kAsync;
  const int64_t every = config::PublishEvery(config);
  const int64_t staleness = config.server.max_staleness;
  // Snapshots published while every worker pushes once.
  const int64_t per_round = (workers + every - 1) / every;
  int64_t bases = 0;
  if (relative) {
    bases = !async          ? 3
            : staleness > 0 ? std::min(2 * workers, staleness / every + 2)
                            : 2 * workers;
  }
  // Async with anchor momentum also keeps the anchor of the rule's last
  // step, its offset and the offset's proposal.
  const bool async_outer = async && config.train.beta != 0.0;
  const int64_t scratch = async_outer ? 10 : 7;
  const int64_t published = 1;
  const int64_t state = workers + bases + scratch + published;
  const int64_t in_flight_anchors =
      async ? std::min(workers + 1, per_round + 2) : 2;
  const int64_t snapshot =
      config.server.checkpoint_dir.empty() ? 0 : workers + bases + 3;
  MemoryBound bound;
  bound.model_copies = state + 2 + in_flight_anchors + snapshot;
  bound.model_bytes = bound.model_copies * dim * 4;
  const int64_t credits = config.server.push_credits;
  bound.message_bytes =
      (credits > 0 ? std::min(workers, credits) : workers) * push_bytes;
  bound.data_bytes = data_bytes;
  return bound;
}

int64_t AutoPushCredits(const MemoryBound& bound, int64_t push_bytes,
                        int64_t workers, int64_t limit) {
  if (bound.total() <= limit || push_bytes <= 0) return 0;
  const int64_t rest = bound.total() - bound.message_bytes;
  return std::clamp<int64_t>((limit - rest) / push_bytes, 1,
                             std::max<int64_t>(workers - 1, 1));
}

namespace {

std::optional<int64_t> ReadLimit(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::nullopt;
  char* end = nullptr;
  const int64_t value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || value <= 0 ||
      value >= (int64_t{1} << 62)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<int64_t> CgroupMemoryLimit(const std::string& root) {
  if (std::ifstream(root + "/memory.max").good()) {
    return ReadLimit(root + "/memory.max");
  }
  return ReadLimit(root + "/memory/memory.limit_in_bytes");
}

}  // namespace anchorage::server
