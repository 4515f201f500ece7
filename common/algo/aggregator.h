// The anchor-aggregation rule of the server, free of sockets and clocks:
// contributions in, anchor out. The server's event loop wraps it; tests and
// a simulator drive it directly.
//
// Async mode (Overlap-Local-SGD's service default): every worker has a slot
// holding its latest contribution; the target is the mean of the slots and
// is updated on every arrival, so a new anchor version follows each push.
// A joining worker's slot starts at the current anchor, so joining does not
// move it; a leaving worker's slot is dropped from the mean. Slots are
// copy-on-write: the workers that join at one anchor version share one copy
// of it until each pushes, so a join costs one pass over the sum, not a
// model-sized allocation.
//
// Sync mode: contributions of the current round are held (a slot holds no
// memory before its worker's first contribution); CloseRound()
// publishes the mean (or the trimmed mean or median, CombineRule) of those
// that arrived (the round core decides when:
// all live workers in, or a deadline with a quorum). The mean is summed at
// the close in worker-id order, so a round's anchor does not depend on the
// order in which its contributions arrived.
//
// Async sums are kept in float and recomputed exactly from the slots every
// kResumInterval arrivals, so incremental rounding cannot drift.
//
// A contribution or round whose result would make the anchor non-finite is
// refused with the state untouched (the new anchor is built aside and
// swapped in).
//
// The outer rule (outer_rule.h) turns the target into the anchor: at
// CloseRound() in sync mode. In async mode plain averaging makes the anchor
// the target on every arrival; any other rule (anchor momentum) steps once
// per m applied contributions (m = the registered workers), from the anchor
// of its previous step, as the per-round recurrence does once a round;
// between steps the anchor follows every arrival as the target plus the
// offset the last step left (z = x̄ + (z_step − x̄_step)). So with m
// equal-speed workers arriving round by round, the anchor after each
// round's last arrival is exactly the per-round recurrence's. Templated on the
// scalar so theory checks run it in double; the server runs Aggregator (float).
//
// Not thread-safe: owned by one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/algo/finite.h"
#include "common/algo/outer_rule.h"
#include "common/base/bytes.h"
#include "common/base/enum_names.h"
#include "common/base/status.h"

namespace anchorage::algo {

enum class AggregationMode { kAsync, kSync };

inline constexpr EnumName<AggregationMode> kAggregationModeNames[] = {
    {AggregationMode::kAsync, "async"},
    {AggregationMode::kSync, "sync"},
};

constexpr std::string_view AggregationModeName(AggregationMode mode) {
  return NameOf(kAggregationModeNames, mode);
}

// How a sync round combines its contributions, coordinate by coordinate:
// the mean; the trimmed mean, which drops the floor(trim · n) largest and
// smallest values of each coordinate before averaging; or the median. The
// robust rules bound what a minority of contributions can do to a round.
enum class CombineRule { kMean, kTrimmedMean, kMedian };

// Async mode: how much of a contribution reaches the anchor. kInverse
// shrinks a contribution of staleness s toward the current anchor z to
// z + (x − z)/(1 + s), so an old contribution moves the anchor less.
// kRounds counts s in rounds of m versions: z + (x − z)·min(1, m/(1 + s)),
// so a contribution within a round counts whole and one k rounds old (a
// straggler's) 1/k, FedAsync's polynomial staleness function with a = 1.
enum class StalenessWeight { kNone, kInverse, kRounds };

inline constexpr EnumName<StalenessWeight> kStalenessWeightNames[] = {
    {StalenessWeight::kNone, "none"},
    {StalenessWeight::kInverse, "inverse"},
    {StalenessWeight::kRounds, "rounds"},
};

struct AggregatorOptions {
  AggregationMode mode = AggregationMode::kAsync;
  OuterOptions outer;
  // Sync mode only.
  CombineRule combine = CombineRule::kMean;
  double trim = 0;  // kTrimmedMean: the fraction cut from each end, < 0.5
};

// Parses --aggregation-rule: "mean", "median" or "trimmed-mean:F" with F in
// [0, 0.5). InvalidArgument naming the problem otherwise.
Status ParseCombineRule(const std::string& text, AggregatorOptions* options);

template <typename Scalar>
class BasicAggregator {
 public:
  BasicAggregator(const AggregatorOptions& options,
                  std::span<const Scalar> initial_anchor);

  // Registers worker `id`. Returns FailedPrecondition if it is registered.
  Status AddWorker(uint32_t id);
  // Unregisters `id` (a lost or departed worker). In async mode the anchor
  // becomes the mean over the remaining workers; in sync mode its pending
  // contribution is discarded. Returns NotFound for an unknown id.
  Status RemoveWorker(uint32_t id);
  bool HasWorker(uint32_t id) const { return workers_.contains(id); }
  // Worker `id`'s latest contribution (async: the anchor it joined at
  // before its first); empty when it has none or is not registered.
  std::span<const Scalar> contribution(uint32_t id) const {
    const auto it = workers_.find(id);
    if (it == workers_.end() || it->second == nullptr) return {};
    return *it->second;
  }
  int num_workers() const { return static_cast<int>(workers_.size()); }

  // Folds in `*contribution` from worker `id` for `round`. Async: applies
  // it at once and advances the version. Sync: holds it until CloseRound();
  // returns FailedPrecondition if `round` is not the open round or `id`
  // already contributed to it. Returns InvalidArgument on a size mismatch
  // and NotFound for an unknown worker; the state is unchanged on error.
  // The contribution is kept by swapping buffers, not by copying: on
  // success *contribution holds an unspecified buffer of the same size for
  // the caller to reuse. Async: OutOfRange, the state unchanged, when the
  // new anchor (or the outer rule's buffer) would not be finite.
  Status Submit(uint32_t id, uint64_t round, std::vector<Scalar>* contribution);

  // Sync mode: contributions received for the open round.
  int pending() const { return static_cast<int>(round_members_.size()); }
  bool HasPending(uint32_t id) const { return round_members_.contains(id); }
  // A k-sparse change of a round's sum: sign * values[j] at coordinate
  // indices[j] (< dim, checked). The sketched codecs decide theirs on the
  // whole round and fold it in at the close.
  struct SparseUpdate {
    std::span<const uint32_t> indices;
    std::span<const float> values;
    Scalar sign = 1;
  };
  // Sync mode: publishes the mean of the open round's contributions (plus
  // `update`, when given, before the division) as the new anchor through
  // the outer rule, and advances version and round. With no contribution
  // the anchor stays and only the round advances. Returns false when the
  // new anchor would not be finite: the round is then discarded, the
  // anchor and version unchanged.
  bool CloseRound(const SparseUpdate* update = nullptr);

  // The base learning rate γ_t the outer rule uses from now on.
  void set_learning_rate(double lr) { lr_ = lr; }

  std::span<const Scalar> anchor() const { return anchor_; }
  uint64_t version() const { return version_; }
  // Sync mode: the round being collected.
  uint64_t round() const { return round_; }
  int64_t dim() const { return static_cast<int64_t>(anchor_.size()); }

  // The whole state (anchor, version, round, every slot, the outer rule's
  // buffer), and its restoration into an aggregator built with the same
  // options and dimension: DataLoss naming the problem, with the state
  // then unspecified.
  void Save(ByteWriter* out) const;
  Status Load(ByteReader* in);

 private:
  static constexpr int kResumInterval = 256;

  // Moves the anchor toward sum / count through the outer rule; false,
  // with nothing changed, when the result would not be finite. `arrival`:
  // an async contribution, which counts toward the rule's next step.
  bool ApplyOuter(std::span<const Scalar> sum, double count,
                  bool arrival = false);
  // Async with a rule other than plain averaging (see above).
  bool ApplyAsyncOuter(double count, bool arrival);
  // The sum of the slots, with `replacement` for worker `replaced`'s.
  void SumSlots(uint32_t replaced, std::span<const Scalar> replacement,
                std::vector<Scalar>* sum) const;
  // Async: rebuilds sum_ from the slots.
  void Resum();
  // Sync, robust rules: sum_ = n × the rule's value of the round's
  // contributions, coordinate by coordinate.
  void CombineRobustly();

  AggregatorOptions options_;
  OuterRule<Scalar> rule_;
  double lr_ = 1.0;
  std::vector<Scalar> anchor_;
  std::vector<Scalar> target_;       // scratch for rules other than averaging
  std::vector<Scalar> next_anchor_;  // scratch: the proposed anchor
  std::vector<Scalar> next_sum_;     // async scratch: the proposed sum
  uint64_t version_ = 0;
  uint64_t round_ = 0;
  // Async, a rule other than plain averaging: the anchor of the rule's
  // last step, the offset z − x̄ it left (and its proposal), and the
  // contributions applied since.
  std::vector<Scalar> step_anchor_;
  std::vector<Scalar> offset_;
  std::vector<Scalar> next_offset_;
  int64_t arrivals_since_step_ = 0;

  // A worker's latest contribution; shared only by async joiners (the anchor
  // they joined at, joined_), empty in sync mode before its first push.
  using Slot = std::shared_ptr<std::vector<Scalar>>;
  // The slot `id` may write to: its own copy (the shared one copied once).
  std::vector<Scalar>& Own(Slot& slot);
  // Load's part: the slots and the round's members.
  void LoadSlots(ByteReader* in, std::map<uint32_t, Slot>* workers,
                 std::set<uint32_t>* members) const;

  std::map<uint32_t, Slot> workers_;
  Slot joined_;  // async: the anchor of joined_version_, shared by joiners
  uint64_t joined_version_ = 0;
  std::vector<Scalar> sum_;  // async: sum of slots; sync: scratch
  int arrivals_since_resum_ = 0;
  std::set<uint32_t> round_members_;  // sync: contributors of the round
};

using Aggregator = BasicAggregator<float>;

}  // namespace anchorage::algo
