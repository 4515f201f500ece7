// The worker's side of the round protocol, as a pure state machine: which
// anchor to keep, when a round may proceed, when to wait, and how to resync
// after a (re)join. No sockets, no clocks: the worker service's compute
// thread and the simulator drive it alike, doing what Next() says and
// reporting it with Done().
//
//   kStart        adopt the newest anchor (the first one, or after a rejoin
//                 of a blocking worker), then compute
//   kCompute      run the round's local steps (WorkerRound::Compute)
//   kPullAndPush  overlapped: pull toward the newest anchor, push round()
//   kPush         blocking: push round(), then wait for its anchor
//   kAdopt        blocking: adopt the anchor round() produced
//   kWait         nothing to do until Offer() brings another anchor
//
// Overlapped algorithms pull, at the end of round t, toward the newest
// anchor that allows round t (it answers round t − 1), so they wait only
// when that one is late. Blocking ones push round t and wait for the anchor
// that allows round t + 1. A Welcome after the first (the server lost or
// restarted this worker) resyncs: the next push is for the server's round,
// and a blocking worker restarts from the welcomed anchor.
//
// Not thread-safe: owned by one thread.
#pragma once

#include <cstdint>

namespace anchorage::algo {

// What a worker learns from the header of an anchor it received.
struct AnchorHeader {
  uint64_t version = 0;
  uint64_t next_round = 0;     // the round it allows the worker to start
  uint64_t schedule_step = 0;  // the run's progress (AnchorUpdate)
  bool welcome = false;        // the answer to a Join
};

class WorkerSync {
 public:
  enum class Action { kWait, kStart, kCompute, kPullAndPush, kPush, kAdopt };

  explicit WorkerSync(bool overlapped) : overlapped_(overlapped) {}

  // An anchor arrived. Returns true when it becomes the newest one the
  // worker holds (the caller keeps its values); an anchor older than the
  // newest, or one before the first Welcome, is dropped.
  bool Offer(const AnchorHeader& header);

  // What to do now.
  Action Next() const;
  // The caller did `action` (as Next() returned it; a kWait may have
  // ended with an Offer since).
  void Done(Action action);

  // The round the worker computes and pushes next.
  uint64_t round() const { return round_; }
  // The version of the newest anchor held: the base of the next push.
  uint64_t base_version() const { return newest_.version; }
  // The furthest run progress an anchor has reported, in local steps: the
  // step the worker's learning-rate schedule is at least at.
  uint64_t schedule_step() const { return newest_.schedule_step; }
  bool joined() const { return phase_ != Phase::kUnjoined; }
  // Rounds completed since the first Welcome.
  int64_t rounds_completed() const { return rounds_completed_; }

 private:
  enum class Phase {
    kUnjoined,   // no anchor yet
    kStarting,   // adopt the newest anchor
    kComputing,  // compute the round
    kSyncPoint,  // the round's steps are done
    kAwaiting,   // blocking: pushed, waiting for the round's anchor
  };

  bool overlapped_;
  Phase phase_ = Phase::kUnjoined;
  AnchorHeader newest_;
  uint64_t round_ = 0;
  // A blocking worker was welcomed again: restart from the newest anchor.
  bool restart_ = false;
  int64_t rounds_completed_ = 0;
};

}  // namespace anchorage::algo
