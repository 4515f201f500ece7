// The round core: every decision the anchor-aggregation server makes, as a
// pure state machine (DESIGN.md section 10). Events in (a join, a leave, a
// worker lost, a push, a second-round answer, the passing of time), effects
// out (round_messages.h): whom to welcome, refuse, send the anchor or query,
// and when the run is complete. No sockets, no clocks, no threads: time is
// an argument in seconds on the caller's clock. The ZeroMQ server, the
// simulator and the tests drive the same object.
//
// What it owns:
//   - membership: ids in [0, workers); join (checked against the model
//     dimension, algorithm and codec), rejoin, leave, lost; a late joiner is
//     welcomed with the current anchor and round; with `start_wait_seconds`,
//     the run's first Welcomes are held until every expected worker has
//     joined, or for at most that long after the first join;
//   - the aggregator and outer rule (aggregator.h, outer_rule.h), and the
//     learning rate of a round (the local optimizer's schedule at
//     round * local_steps), set per push in async mode and at the close in
//     sync mode;
//   - the sync barrier: round 0 waits for every expected worker, later
//     rounds for the live ones, or close at `round_deadline_seconds` with a
//     `quorum` of them; a push for a closed round (or a second push to the
//     open one) is stale and answered with the current anchor;
//   - the published anchor: the copy every Welcome and reply carries, one
//     snapshot shared by all of them, rounded as the anchor codec rounds it.
//     Sync rounds publish each new anchor; async mode publishes a new snapshot
//     once the anchor is `publish_every` versions past the last, so the anchors
//     in flight and the kept bases are one per snapshot rather than one per
//     push;
//   - relative pushes (push_codec.h): the anchors a worker may name as its
//     base (the last two sent to it), each snapshot kept once and shared by
//     every worker that references it; with `max_staleness`, an async push
//     whose base is more versions old than that is dropped as stale and
//     answered with the current anchor, and older bases are let go; with
//     `staleness_weight` inverse, an applied async contribution is shrunk
//     toward the anchor by 1/(1 + its staleness); with `reply_wait`, the
//     reply to an async push is held until every live worker has pushed
//     that round, or for at most that fraction of the worker's time between
//     its pushes, so that it carries its peers' contributions of the round
//     (fresh as a sync anchor) without waiting on a straggler;
//   - the round protocol of codecs decided on the whole round (the
//     sketches, codec/round_protocol.h): contributions submit a placeholder,
//     the second round queries every contributor, and the k-sparse update is
//     folded into the round's sum at the close; the contributors whose exact
//     values it summed learn the applied coordinates with the anchor. The
//     protocol learns the round's contributors and learning rate (γ_t for
//     minibatch SGD's gradients, 1 for the local methods' pseudo-gradients), so
//     FetchSGD's error sketch holds displacements of the model;
//   - contribution bounds (contribution_bound.h): a push whose update
//     norm is out of bounds, whose report is out of range (more examples
//     than its steps can hold, a round or base version the worker cannot
//     have, a first local step after the push was sent or in the future),
//     or whose aggregation would make the anchor non-finite is refused
//     with the state untouched, and counted by reason;
//   - the budget (epochs of examples the workers report, or anchor
//     versions) and the run's counters.
//
// State: Save/Load carry all of it (the anchor, every slot, the outer
// buffers, the round protocol, membership, the kept bases, counters), so a
// run can resume in another process; Load needs an object created with the
// same options and codec.
//
// Templated on the scalar so the simulator's theory checks run it in double
// (with a lossless codec only); the server runs AnchorRound (float).
// Not thread-safe: owned by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/algo/contribution_bound.h"
#include "common/algo/round_messages.h"
#include "common/base/bytes.h"
#include "common/base/status.h"
#include "common/codec/codec.h"
#include "common/optim/sgd.h"

namespace anchorage::algo {

struct AnchorRoundOptions {
  Algorithm algorithm = Algorithm::kOverlapLocalSgd;
  AggregatorOptions aggregator;
  // Expected workers m; ids are [0, m).
  int workers = 1;
  // Sync mode: a round closes when every live worker has pushed (round 0:
  // every expected worker), or once this many seconds have passed since it
  // opened with `quorum` of the live workers in.
  double round_deadline_seconds = 30.0;
  double quorum = 1.0;
  // The learning rate γ_t of the outer rules: the local optimizer's schedule
  // after round t's local steps began.
  int local_steps = 1;
  optim::SgdOptions schedule;
  // The budget: epochs of `examples_per_epoch` examples reported by the
  // workers and/or anchor versions (0 = no limit; one is set).
  int64_t examples_per_epoch = 1;
  double epochs = 0;
  int64_t max_versions = 0;
  // Contribution bounds: the update norm, and the examples one local step
  // may report (the batch size; 0 = not checked).
  BoundOptions bound;
  int64_t batch_size = 0;
  // Async mode: versions between published snapshots (>= 1), and the
  // oldest base a push may name, in versions behind the anchor (0 = any).
  int64_t publish_every = 1;
  int64_t max_staleness = 0;
  StalenessWeight staleness_weight = StalenessWeight::kNone;
  // Async mode: the longest a reply waits for the rest of its round, as a
  // fraction of the shorter of the pushing worker's last two intervals
  // between pushes, in [0, 1) (0 = reply at once). A worker computes the
  // next round while it waits, so a reply within its round costs it
  // nothing; the shorter interval keeps one slow round from stretching
  // the wait past the next, normal one.
  double reply_wait = 0;
  // How anchors travel to the workers: dense, or fp16 / bf16 (half the
  // bytes). The published snapshot is the anchor as the workers decode it,
  // so the bases of relative pushes are what they pulled toward.
  std::string anchor_codec = "dense";
  // Before anything is applied, the Welcomes are held until every expected
  // worker has joined, or for at most this many seconds after the first
  // join, so that the workers begin training together instead of the
  // first ones training (and, on shared cores, taking the CPU) while the
  // others start (0: each is welcomed as it joins).
  double start_wait_seconds = 0;
  // The run's start, unix time in ns on the caller's wall clock: a first
  // local step a worker reports more than kClockSlackNs before it belongs
  // to an earlier run and is not counted in the start-up (0: every one
  // counts). A resumed state keeps the start of the run it saved.
  int64_t started_unix_ns = 0;
};

// The codecs anchors may travel in.
bool IsAnchorCodec(std::string_view name);

// How far two hosts' wall clocks may disagree before a wall-clock time a
// worker reports is out of range: one minute, so that only a clock that
// is not synchronised at all, or a made-up time, is refused.
inline constexpr int64_t kClockSlackNs = int64_t{60} * 1000 * 1000 * 1000;

// What the run has done so far, for summaries.
struct RoundStats {
  uint64_t version = 0;
  int64_t samples = 0;
  double epochs = 0;
  int64_t pushes_applied = 0;
  int64_t pushes_rejected = 0;
  int64_t pushes_stale = 0;
  // Async pushes dropped for a base older than max_staleness (also stale).
  int64_t stale_dropped = 0;
  // Every refusal (a refused push also counts here), and by reason.
  int64_t refused_messages = 0;
  std::map<std::string, int64_t> refusals;
  double staleness_mean = 0;
  // The decoded pushes as dense float32.
  int64_t raw_bytes_up = 0;
  // Means over the workers that have reported.
  double compute_seconds_mean = 0;
  double sync_wait_seconds_mean = 0;
  double encode_seconds_mean = 0;
  double train_loss = 0;
  // Bits per coordinate over the quantized pushes the reporting workers
  // have sent (each worker's latest cumulative counts, pooled); 0 when
  // none was quantized.
  double quantization_bits_mean = 0;
  // The run's start (AnchorRoundOptions::started_unix_ns, or the saved
  // one), and the latest of the expected workers' first local steps (each
  // worker's earliest report): when every worker had begun training, the
  // end of the start-up. Unix ns; 0 when unknown, or until every expected
  // worker has reported one.
  int64_t started_unix_ns = 0;
  int64_t first_steps_unix_ns = 0;
  // The earliest first local step any worker has reported: the start of
  // training. Unix ns; 0 until one is reported.
  int64_t first_step_unix_ns = 0;
  std::vector<uint32_t> lost_workers;
  std::string finish_reason;  // empty until the budget is reached
};

template <typename Scalar>
class BasicAnchorRound {
 public:
  // The round for pushes decoded by `codec` (of the model's dimension)
  // from `initial`. InvalidArgument when the codec's dimension differs,
  // when a codec decided on the whole round meets async aggregation, or
  // when a double-precision round meets a lossy codec.
  static StatusOr<std::unique_ptr<BasicAnchorRound>> Create(
      const AnchorRoundOptions& options, std::span<const Scalar> initial,
      std::unique_ptr<codec::Codec> codec);

  Effects OnJoin(double now, const JoinRequest& request);
  // A live worker said it leaves; `reason` is what it said.
  Effects OnLeave(double now, uint32_t worker, std::string_view reason);
  // A live worker fell silent past the liveness window.
  Effects OnLost(double now, uint32_t worker);
  Effects OnPush(double now, const PushRequest& request);
  Effects OnValues(double now, const ValuesReply& reply);
  // The passing of time: round deadlines, held replies, the start's wait.
  Effects OnTick(double now);
  // When OnTick next has something to do for a held reply or Welcome
  // (caller's clock); infinity when none is held. Sync round deadlines
  // are not included: they are coarse, and the caller ticks for them
  // anyway.
  double next_deadline() const;

  std::span<const Scalar> anchor() const { return aggregator_.anchor(); }
  // The anchor the last Welcome or reply carried, and its version: what a
  // caller sends for those effects (a snapshot it may keep).
  const std::shared_ptr<const std::vector<Scalar>>& published() const {
    return published_;
  }
  // The published anchor as the anchor codec encodes it (fp16, bf16), the
  // bytes a Welcome or reply carries; null for dense, whose bytes are the
  // snapshot's own.
  const std::shared_ptr<const std::vector<uint8_t>>& published_bytes() const {
    return published_bytes_;
  }
  uint64_t published_version() const { return published_version_; }
  uint64_t version() const { return aggregator_.version(); }
  // Sync mode: the round being collected.
  uint64_t round() const { return aggregator_.round(); }
  int64_t dim() const { return aggregator_.dim(); }
  bool IsLive(uint32_t worker) const;
  // Whether the run's first Welcomes are still held (start_wait_seconds):
  // the workers that joined wait for them and say nothing meanwhile.
  bool holding_start() const {
    return options_.start_wait_seconds > 0 && !started_;
  }
  // The incarnation of `worker`'s last accepted join (0: it never joined).
  uint64_t incarnation(uint32_t worker) const;
  int live_workers() const;
  bool finished() const { return !finish_reason_.empty(); }
  // Examples the workers have reported.
  int64_t samples() const { return samples_; }
  RoundStats stats() const;
  const codec::Codec& codec() const { return *codec_; }
  // The base learning rate γ_t of `round`.
  double LearningRateOfRound(uint64_t round) const;
  // The run's progress as one worker's step: examples reported / (m ×
  // batch size); 0 when no batch size is known. Every Welcome and anchor
  // carries it, and workers behind it catch their schedules up to it.
  int64_t ProgressStep() const;
  // Async mode: the schedule at ProgressStep(); a worker's own round would give
  // each arrival its own rate, which the outer rule's momentum would mix
  // (a straggler's larger pre-decay rate scaled the buffer built after the
  // decay). The base rate when no batch size is known.
  double LearningRateOfProgress() const;
  // The learning rate a push of `round` by live `worker` was made with, for the
  // bound's per-unit-rate median: its schedule at the highest round it has
  // pushed or at the progress it was told before its last anchor, whichever
  // is further (the larger rate where they straddle a decay), or in async
  // mode the run's rate when that is larger (its pull carries the anchor's
  // moves); 1 for gradients (minibatch SGD), which no rate scales.
  double RateOfPush(uint32_t worker, uint64_t round) const;

  // The whole state, with a magic and a format version, and its
  // restoration: DataLoss naming the problem, the state then unspecified.
  std::vector<uint8_t> Save() const;
  Status Load(std::span<const uint8_t> bytes);

 private:
  static constexpr uint64_t kNoVersion = UINT64_MAX;
  struct Member {
    bool live = false;
    uint64_t incarnation = 0;
    uint64_t next_round = 0;
    // The highest round it has pushed: where its learning-rate schedule
    // is, as far as the server knows (a claim of an older round does not
    // move it back).
    uint64_t top_round = 0;
    // Versions of the last two anchors sent (kNoVersion: none).
    uint64_t bases[2] = {kNoVersion, kNoVersion};
    // The run's progress the last two of them told it (newest first): its
    // schedule is at least at the older one when it computes.
    uint64_t schedule_steps[2] = {0, 0};
    WorkerReport report;
    bool reported = false;
    bool has_loss = false;
    // The earliest first local step it has reported (unix ns; 0: none).
    int64_t first_step_unix_ns = 0;
    // Async with reply_wait: when its last applied push arrived (< 0:
    // never), the time between it and the one before (0: unknown), and the
    // reply held for its push of `held_round` until `due`.
    double last_push_seconds = -1;
    double last_interval = 0;
    std::optional<double> held_due;
    uint64_t held_round = 0;
    int64_t held_sent_unix_ns = 0;
  };
  struct Base {
    std::shared_ptr<const std::vector<Scalar>> values;
    int references = 0;
  };

  BasicAnchorRound(const AnchorRoundOptions& options,
                   std::span<const Scalar> initial,
                   std::unique_ptr<codec::Codec> codec);

  Refused Refuse(uint32_t worker, Refusal code, std::string reason,
                 std::string text, bool push);
  // Refuses a `kind` message from a worker that is not live.
  std::optional<Refused> CheckLive(uint32_t worker, const char* kind);
  // Refuses a join; empty when it is acceptable.
  std::optional<Refused> CheckJoin(const JoinRequest& request);
  // Decodes (or, for a round protocol, takes the sketch of) `request` into
  // decoded_; a refusal on failure, else nullopt. Sets *stale when a round
  // protocol is in its second round.
  std::optional<Refused> Decode(const PushRequest& request, bool* stale);
  // A round protocol's push: checks its norm and adds it to the round's
  // sum; a refusal when it is out of bounds or malformed.
  std::optional<Refused> AddToRound(const PushRequest& request);
  // Refuses a push whose report, round or base version is out of range.
  std::optional<Refused> CheckReport(const PushRequest& request,
                                     const Member& member);
  // ProgressStep(), recorded as told to `member`.
  uint64_t TellProgress(Member& member) const;
  // What is wrong with the first local step `request` reports (empty:
  // nothing): negative, after the push was sent, or more than
  // kClockSlackNs after it arrived.
  std::string CheckFirstStep(const PushRequest& request) const;
  // Refuses a contribution of `norm` beyond `bound`.
  std::optional<Refused> CheckNorm(uint32_t worker, double norm,
                                   ContributionBound& bound, double rate,
                                   bool push);
  // The update norm of decoded_ (relative to `base` when given).
  double UpdateNorm(uint32_t worker, const std::vector<Scalar>* base) const;
  // ‖decoded_ − from‖ (from null: ‖decoded_‖).
  double DistanceTo(const Scalar* from) const;
  // The decoded contribution x becomes z + weight·(x − z), z the anchor.
  void Shrink(double weight);
  void Record(const PushRequest& request, Member& member);
  void MaybeCloseRound(double now, bool deadline_passed, Effects* effects);
  // Async: holds the reply to `member`'s applied push (true) when
  // reply_wait allows, else leaves it to the caller.
  bool HoldReply(double now, const PushRequest& request, Member& member);
  // Async: counts a push of `round` toward the release of held replies.
  void CountPush(uint64_t round);
  // Async: sends the held replies whose round is complete or whose time
  // is up.
  void ReleaseReplies(double now, Effects* effects);
  void StartQuery(double now, Effects* effects);
  void CloseRound(double now, Effects* effects);
  // Takes a new snapshot of the anchor when the last one is due.
  void Publish();
  void SendAnchor(uint32_t worker, uint64_t next_round, int64_t sent_unix_ns,
                  const std::shared_ptr<const std::vector<uint32_t>>& applied,
                  Effects* effects);
  void Remove(uint32_t worker);
  // Welcomes live `member` (id `worker`) with the published anchor.
  void SendWelcome(uint32_t worker, Member& member, Effects* effects);
  // Ends the start's wait: welcomes every waiting worker still live.
  void ReleaseStart(Effects* effects);
  void CheckBudget(Effects* effects);
  // Parts of Save and Load.
  void SaveMembers(ByteWriter* out) const;
  void LoadMembers(ByteReader* in);
  void LoadRefusals(ByteReader* in);
  void LoadBases(ByteReader* in);
  // Relative pushes: the current anchor becomes `member`'s newest base.
  void RecordBase(Member& member);
  void ReleaseBases(Member& member);
  // Lets go of the bases older than max_staleness versions.
  void DropStaleBases();
  const std::vector<Scalar>* FindBase(const Member& member,
                                      uint64_t version) const;

  AnchorRoundOptions options_;
  std::unique_ptr<codec::Codec> codec_;
  bool relative_;
  BasicAggregator<Scalar> aggregator_;
  std::unique_ptr<codec::RoundProtocol> protocol_;  // null: per-push decode
  std::vector<Scalar> decoded_;                     // scratch
  ContributionBound update_bound_;
  ContributionBound values_bound_;  // the second round's exact values

  std::map<uint32_t, Member> members_;
  std::map<uint64_t, Base> bases_;  // by version
  std::shared_ptr<const std::vector<Scalar>> published_;
  uint64_t published_version_ = kNoVersion;
  // A lossy anchor codec (null for dense) and the published anchor in it.
  std::unique_ptr<codec::Codec> anchor_codec_;
  std::shared_ptr<const std::vector<uint8_t>> published_bytes_;

  // The second round of a protocol that asks values, and the contributors
  // whose exact values the round summed (their answers, or with no second
  // round their messages): those a protocol tells the applied coordinates.
  bool querying_ = false;
  std::set<uint32_t> awaiting_;
  std::set<uint32_t> answered_;
  std::vector<uint32_t> update_indices_;
  std::vector<float> update_values_;

  // Async with reply_wait: the workers that pushed each recent round.
  std::map<uint64_t, int> pushed_in_round_;
  double round_opened_ = 0;
  double first_in_round_ = 0;
  double last_version_time_ = 0;
  int64_t samples_ = 0;
  int64_t pushes_applied_ = 0;
  int64_t pushes_rejected_ = 0;
  int64_t pushes_stale_ = 0;
  int64_t stale_dropped_ = 0;
  int64_t refused_ = 0;
  std::map<std::string, int64_t> refusals_;
  double staleness_sum_ = 0;
  int64_t raw_bytes_up_ = 0;
  int64_t started_unix_ns_ = 0;
  // The start's wait: whether it is over, when it ends (set by the first
  // join), and the joined workers not yet welcomed, in join order.
  bool started_ = false;
  std::optional<double> start_due_;
  std::vector<uint32_t> waiting_;
  std::vector<uint32_t> lost_;
  std::string finish_reason_;
};

using AnchorRound = BasicAnchorRound<float>;

}  // namespace anchorage::algo
