#include "worker/shard_assembler.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/base/check.h"

namespace anchorage::worker {

ShardAssembler::ShardAssembler(std::vector<algo::ModelSlice> slices)
    : slices_(std::move(slices)), parts_(slices_.size()) {
  ANCHORAGE_CHECK(!slices_.empty(), "ShardAssembler: no shard");
}

std::unique_ptr<Delivery> ShardAssembler::Offer(
    size_t shard, std::unique_ptr<Delivery> delivery) {
  Part& part = parts_.at(shard);
  switch (delivery->kind) {
    case Delivery::Kind::kFatal:
      return delivery;
    case Delivery::Kind::kDone: {
      if (!delivery->completed) return delivery;
      part.done = true;
      const bool all_done = std::all_of(parts_.begin(), parts_.end(),
                                        [](const Part& p) { return p.done; });
      if (all_done) return delivery;
      // It no longer holds the round back.
      return MaybeAssemble();
    }
    case Delivery::Kind::kAnchor:
      if (static_cast<int64_t>(delivery->anchor.size()) !=
          slices_[shard].size()) {
        delivery->kind = Delivery::Kind::kFatal;
        delivery->text = "shard " + std::to_string(shard) + " sent " +
                         std::to_string(delivery->anchor.size()) +
                         " parameters, its slice has " +
                         std::to_string(slices_[shard].size());
        return delivery;
      }
      welcome_pending_ = welcome_pending_ || delivery->header.welcome;
      part.anchor = std::move(delivery);
      return MaybeAssemble();
  }
  return nullptr;
}

std::unique_ptr<Delivery> ShardAssembler::MaybeAssemble() {
  uint64_t next_round = std::numeric_limits<uint64_t>::max();
  uint64_t top_round = 0;
  for (const Part& part : parts_) {
    if (part.anchor == nullptr) return nullptr;
    top_round = std::max(top_round, part.anchor->header.next_round);
    if (!part.done) {
      next_round = std::min(next_round, part.anchor->header.next_round);
    }
  }
  // Every shard done: whatever it allows, nothing more is pushed.
  if (next_round == std::numeric_limits<uint64_t>::max()) {
    next_round = top_round;
  }
  if (!welcome_pending_ && handed_round_ && next_round <= *handed_round_) {
    return nullptr;
  }
  auto whole = std::make_unique<Delivery>();
  whole->header.next_round = next_round;
  whole->header.welcome = welcome_pending_;
  whole->anchor.resize(static_cast<size_t>(slices_.back().end));
  for (size_t s = 0; s < parts_.size(); ++s) {
    const Delivery& part = *parts_[s].anchor;
    whole->header.version =
        std::max(whole->header.version, part.header.version);
    whole->header.schedule_step =
        std::max(whole->header.schedule_step, part.header.schedule_step);
    std::copy(part.anchor.begin(), part.anchor.end(),
              whole->anchor.begin() + slices_[s].begin);
    whole->parts.push_back(parts_[s].anchor);
  }
  welcome_pending_ = false;
  handed_round_ = next_round;
  return whole;
}

}  // namespace anchorage::worker
