#include "common/algo/worker_sync.h"

#include <algorithm>

#include "common/base/check.h"

namespace anchorage::algo {

bool WorkerSync::Offer(const AnchorHeader& header) {
  if (header.welcome) {
    newest_ = header;
    round_ = header.next_round;
    if (phase_ == Phase::kUnjoined) {
      phase_ = Phase::kStarting;
    } else if (!overlapped_) {
      restart_ = true;
    }
    return true;
  }
  if (phase_ == Phase::kUnjoined) return false;
  if (header.version < newest_.version &&
      header.next_round <= newest_.next_round) {
    return false;
  }
  newest_.version = header.version;
  newest_.next_round = std::max(newest_.next_round, header.next_round);
  newest_.schedule_step = std::max(newest_.schedule_step, header.schedule_step);
  newest_.welcome = false;
  return true;
}

WorkerSync::Action WorkerSync::Next() const {
  switch (phase_) {
    case Phase::kUnjoined:
      return Action::kWait;
    case Phase::kStarting:
      return Action::kStart;
    case Phase::kComputing:
      return Action::kCompute;
    case Phase::kSyncPoint:
      if (overlapped_) {
        return newest_.next_round >= round_ ? Action::kPullAndPush
                                            : Action::kWait;
      }
      return restart_ ? Action::kStart : Action::kPush;
    case Phase::kAwaiting:
      if (restart_) return Action::kStart;
      return newest_.next_round > round_ ? Action::kAdopt : Action::kWait;
  }
  return Action::kWait;
}

void WorkerSync::Done(Action action) {
  // A wait ends with an Offer, which may already have changed the answer.
  if (action == Action::kWait) return;
  ANCHORAGE_CHECK(action == Next(), "WorkerSync: did what it did not ask");
  switch (action) {
    case Action::kWait:
      return;
    case Action::kStart:
      restart_ = false;
      phase_ = Phase::kComputing;
      return;
    case Action::kCompute:
      phase_ = Phase::kSyncPoint;
      return;
    case Action::kPullAndPush:
    case Action::kAdopt:
      ++round_;
      ++rounds_completed_;
      phase_ = Phase::kComputing;
      return;
    case Action::kPush:
      phase_ = Phase::kAwaiting;
      return;
  }
}

}  // namespace anchorage::algo
