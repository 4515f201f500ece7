#include "common/algo/anchor_round.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "common/algo/finite.h"
#include "common/algo/push_codec.h"
#include "common/base/format.h"
#include "common/tensor/tensor.h"

namespace anchorage::algo {
namespace {

constexpr uint32_t kStateMagic = 0x52434e41;  // "ANCR"
constexpr uint32_t kStateFormat = 6;

std::string Worker(uint32_t id) {
  return "worker " + std::to_string(id);
}

// No codec sends more bits per coordinate than this (a sanity bound on what
// a worker reports).
constexpr uint64_t kMaxReportedBits = 32;

// How far ahead of the round the server expects a worker's push may be
// (a push overlapping the answer to its previous one).
constexpr uint64_t kRoundSlack = 2;

// The L2 norm of little-endian f32 values at any address; infinity when
// one is not finite.
double ValuesNorm(std::span<const uint8_t> bytes) {
  double squares = 0;
  for (size_t at = 0; at + sizeof(float) <= bytes.size(); at += sizeof(float)) {
    float value = 0;
    std::memcpy(&value, bytes.data() + at, sizeof(float));
    squares += static_cast<double>(value) * value;
  }
  return std::isfinite(squares) ? std::sqrt(squares)
                                : std::numeric_limits<double>::infinity();
}

// Σ_i change(k, i)² over i < size for each k < N, in one pass: N norms of
// differences read together. Independent partial sums per k, so the loop
// vectorises in strict IEEE order (when `change` has no branch).
template <size_t N, typename Change>
std::array<double, N> SumsOfSquares(size_t size, const Change& change) {
  constexpr size_t kLanes = 8;
  std::array<std::array<double, kLanes>, N> lanes{};
  const size_t whole = size - size % kLanes;
  for (size_t i = 0; i < whole; i += kLanes) {
    for (size_t k = 0; k < N; ++k) {
      for (size_t lane = 0; lane < kLanes; ++lane) {
        const double value = change(k, i + lane);
        lanes[k][lane] += value * value;
      }
    }
  }
  std::array<double, N> squares{};
  for (size_t k = 0; k < N; ++k) {
    for (size_t i = whole; i < size; ++i) {
      squares[k] += change(k, i) * change(k, i);
    }
    for (const double lane : lanes[k]) {
      squares[k] += lane;
    }
  }
  return squares;
}

}  // namespace

bool IsAnchorCodec(std::string_view name) {
  return name == "dense" || name == "fp16" || name == "bf16";
}

template <typename Scalar>
StatusOr<std::unique_ptr<BasicAnchorRound<Scalar>>>
BasicAnchorRound<Scalar>::Create(const AnchorRoundOptions& options,
                                 std::span<const Scalar> initial,
                                 std::unique_ptr<codec::Codec> codec) {
  if (codec == nullptr ||
      codec->dim() != static_cast<int64_t>(initial.size())) {
    return Status::InvalidArgument(
        "the push codec's dimension differs from the model's " +
        std::to_string(initial.size()));
  }
  if (options.workers < 1) {
    return Status::InvalidArgument("a round needs at least one worker");
  }
  if (options.publish_every < 1 || options.max_staleness < 0 ||
      !(options.reply_wait >= 0 && options.reply_wait < 1)) {
    return Status::InvalidArgument(
        "publish_every must be >= 1, max_staleness >= 0 and reply_wait in "
        "[0, 1)");
  }
  if (!std::is_same_v<Scalar, float> && !codec->lossless()) {
    return Status::InvalidArgument(
        "a double-precision round needs a lossless codec, not " +
        std::string(codec->name()));
  }
  if (!IsAnchorCodec(options.anchor_codec) ||
      (!std::is_same_v<Scalar, float> && options.anchor_codec != "dense")) {
    return Status::InvalidArgument(
        "anchors travel as dense, fp16 or bf16 (dense in double precision), "
        "not " +
        options.anchor_codec);
  }
  if (codec->NewRoundProtocol() != nullptr &&
      options.aggregator.mode != AggregationMode::kSync) {
    return Status::InvalidArgument(
        "codec " + std::string(codec->name()) +
        " sums every worker's message of a round, so it needs sync "
        "aggregation");
  }
  return std::unique_ptr<BasicAnchorRound>(
      new BasicAnchorRound(options, initial, std::move(codec)));
}

template <typename Scalar>
BasicAnchorRound<Scalar>::BasicAnchorRound(const AnchorRoundOptions& options,
                                           std::span<const Scalar> initial,
                                           std::unique_ptr<codec::Codec> codec)
    : options_(options),
      codec_(std::move(codec)),
      relative_(PushIsRelative(options.algorithm, *codec_)),
      aggregator_(options.aggregator, initial),
      protocol_(codec_->NewRoundProtocol()),
      decoded_(initial.size()),
      update_bound_(options.bound),
      values_bound_(options.bound),
      started_unix_ns_(options.started_unix_ns) {
  if (protocol_ != nullptr) protocol_->Begin();
  Publish();
}

template <typename Scalar>
bool BasicAnchorRound<Scalar>::IsLive(uint32_t worker) const {
  const auto it = members_.find(worker);
  return it != members_.end() && it->second.live;
}

template <typename Scalar>
uint64_t BasicAnchorRound<Scalar>::incarnation(uint32_t worker) const {
  const auto it = members_.find(worker);
  return it == members_.end() ? 0 : it->second.incarnation;
}

template <typename Scalar>
int BasicAnchorRound<Scalar>::live_workers() const {
  return static_cast<int>(
      std::count_if(members_.begin(), members_.end(),
                    [](const auto& entry) { return entry.second.live; }));
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::LearningRateOfRound(uint64_t round) const {
  return optim::ScheduledLearningRate(
      options_.schedule, static_cast<int64_t>(round) * options_.local_steps);
}

template <typename Scalar>
int64_t BasicAnchorRound<Scalar>::ProgressStep() const {
  const int64_t per_step =
      static_cast<int64_t>(options_.workers) * options_.batch_size;
  return per_step > 0 ? samples_ / per_step : 0;
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::LearningRateOfProgress() const {
  return optim::ScheduledLearningRate(options_.schedule, ProgressStep());
}

template <typename Scalar>
Refused BasicAnchorRound<Scalar>::Refuse(uint32_t worker, Refusal code,
                                         std::string reason, std::string text,
                                         bool push) {
  ++refused_;
  ++refusals_[reason];
  if (push) ++pushes_rejected_;
  return {.worker = worker,
          .code = code,
          .reason = std::move(reason),
          .text = std::move(text),
          .was_push = push};
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::CheckLive(uint32_t worker,
                                                           const char* kind) {
  if (IsLive(worker)) return std::nullopt;
  const bool push = std::string_view(kind) == "Push";
  return Refuse(worker, Refusal::kUnknownWorker, "unknown_worker",
                Worker(worker) + " sent " + kind + " before joining", push);
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::CheckJoin(
    const JoinRequest& request) {
  const uint32_t id = request.worker;
  if (id >= static_cast<uint32_t>(options_.workers)) {
    return Refuse(id, Refusal::kUnknownWorker, "unknown_worker",
                  "worker id " + std::to_string(id) + " is outside [0, " +
                      std::to_string(options_.workers) + ")",
                  false);
  }
  if (static_cast<int64_t>(request.model_dim) != dim()) {
    return Refuse(id, Refusal::kWrongDimension, "dimension",
                  Worker(id) + " has a model of " +
                      std::to_string(request.model_dim) +
                      " parameters, the server's has " + std::to_string(dim()),
                  false);
  }
  const std::string_view algorithm = AlgorithmName(options_.algorithm);
  if (request.algorithm != algorithm) {
    return Refuse(id, Refusal::kWrongAlgorithm, "algorithm",
                  Worker(id) + " runs " + Printable(request.algorithm) +
                      ", the server " + std::string(algorithm),
                  false);
  }
  const std::string codec(codec_->name());
  if (request.codec != codec) {
    return Refuse(id, Refusal::kWrongCodec, "codec",
                  Worker(id) + " uses " + Printable(request.codec) +
                      ", the server " + codec,
                  false);
  }
  if (request.codec_settings != codec_->settings()) {
    return Refuse(id, Refusal::kWrongCodec, "codec",
                  Worker(id) + "'s " + codec + " is a " +
                      Printable(request.codec_settings) + "; the server's a " +
                      codec_->settings() +
                      " (give both the same --bits, --qsgd-bucket, --topk, "
                      "--sketch-* and --seed)",
                  false);
  }
  return std::nullopt;
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnJoin(double now,
                                         const JoinRequest& request) {
  Effects effects;
  if (std::optional<Refused> refused = CheckJoin(request)) {
    effects.emplace_back(std::move(*refused));
    return effects;
  }
  const uint32_t id = request.worker;
  Member& member = members_[id];
  // A worker whose Welcome is held and joins again is still joining.
  const bool waiting =
      holding_start() && std::ranges::find(waiting_, id) != waiting_.end();
  const bool rejoin = member.live && !waiting;
  member.incarnation = request.incarnation;
  if (!member.live) {
    member.live = true;
    if (!aggregator_.HasWorker(id)) {
      Status status = aggregator_.AddWorker(id);
      ANCHORAGE_CHECK(status.ok(), "AddWorker of an absent worker failed");
    }
    std::erase(lost_, id);
  }
  if (options_.aggregator.mode == AggregationMode::kSync) {
    member.next_round = round();
  }
  member.held_due.reset();  // the Welcome answers it
  effects.emplace_back(
      MembershipChanged{.worker = id,
                        .change = rejoin ? MembershipChanged::Change::kRejoined
                                         : MembershipChanged::Change::kJoined,
                        .incarnation = member.incarnation,
                        .live_workers = live_workers()});
  if (!holding_start()) {
    SendWelcome(id, member, &effects);
    return effects;
  }
  if (!start_due_) start_due_ = now + options_.start_wait_seconds;
  if (!waiting) waiting_.push_back(id);
  if (live_workers() >= options_.workers) ReleaseStart(&effects);
  return effects;
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::SendWelcome(uint32_t worker, Member& member,
                                           Effects* effects) {
  Publish();
  effects->emplace_back(
      algo::Welcome{.worker = worker,
                    .version = published_version_,
                    .next_round = member.next_round,
                    .workers = static_cast<uint32_t>(options_.workers),
                    .schedule_step = TellProgress(member)});
  RecordBase(member);
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::ReleaseStart(Effects* effects) {
  started_ = true;
  start_due_.reset();
  for (const uint32_t id : waiting_) {
    if (IsLive(id)) SendWelcome(id, members_.at(id), effects);
  }
  waiting_.clear();
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::Remove(uint32_t worker) {
  Member& member = members_.at(worker);
  member.live = false;
  member.held_due.reset();
  ReleaseBases(member);
  Status status = aggregator_.RemoveWorker(worker);
  (void)status;  // NotFound only if it was never added; nothing to undo.
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnLeave(double now, uint32_t worker,
                                          std::string_view reason) {
  Effects effects;
  if (!IsLive(worker)) return effects;
  Remove(worker);
  effects.emplace_back(
      MembershipChanged{.worker = worker,
                        .change = MembershipChanged::Change::kLeft,
                        .incarnation = members_.at(worker).incarnation,
                        .live_workers = live_workers(),
                        .reason = Printable(reason)});
  MaybeCloseRound(now, false, &effects);
  CheckBudget(&effects);
  return effects;
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnLost(double now, uint32_t worker) {
  Effects effects;
  if (!IsLive(worker)) return effects;
  Remove(worker);
  lost_.push_back(worker);
  effects.emplace_back(
      MembershipChanged{.worker = worker,
                        .change = MembershipChanged::Change::kLost,
                        .incarnation = members_.at(worker).incarnation,
                        .live_workers = live_workers()});
  MaybeCloseRound(now, false, &effects);
  CheckBudget(&effects);
  return effects;
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::Decode(
    const PushRequest& request, bool* stale) {
  const uint32_t id = request.worker;
  const Member& member = members_.at(id);
  if (request.codec != codec_->name()) {
    return Refuse(id, Refusal::kWrongCodec, "codec",
                  "push encoded with '" + Printable(request.codec) +
                      "', expected " + std::string{codec_->name()},
                  true);
  }
  if (request.payloads.size() != 1) {
    return Refuse(id, Refusal::kBadMessage, "payload",
                  "push has " + std::to_string(request.payloads.size()) +
                      " payload frames, expected 1",
                  true);
  }
  const std::vector<Scalar>* base = nullptr;
  if (relative_) {
    base = FindBase(member, request.base_version);
    if (base == nullptr) {
      return Refuse(id, Refusal::kBadMessage, "base_version",
                    "push is relative to anchor v" +
                        std::to_string(request.base_version) +
                        ", which was not among the last anchors sent to " +
                        Worker(id),
                    true);
    }
  }
  Status status;
  if (protocol_ != nullptr) {
    if (querying_) {
      // The round is in its second round; its close answers this worker.
      *stale = true;
      return std::nullopt;
    }
    // Only a push the open round accepts joins its sum.
    if (request.round == round() && !aggregator_.HasPending(id)) {
      if (std::optional<Refused> refused = AddToRound(request)) {
        return refused;
      }
    }
    // The placeholder: the base (zeros for gradients); the round's update
    // moves the sum at the close.
    if (base != nullptr) {
      std::copy(base->begin(), base->end(), decoded_.begin());
    } else {
      std::fill(decoded_.begin(), decoded_.end(), static_cast<Scalar>(0));
    }
  } else {
    status = DecodePush<Scalar>(*codec_, relative_,
                                base != nullptr ? std::span<const Scalar>(*base)
                                                : std::span<const Scalar>(),
                                request.payloads.front(), decoded_);
  }
  if (!status.ok()) {
    return Refuse(id, Refusal::kBadMessage, "decode", status.message(), true);
  }
  if (!AllFinite<Scalar>(decoded_)) {
    return Refuse(id, Refusal::kBadMessage, "non_finite",
                  "push from " + Worker(id) + " holds NaN or infinite values",
                  true);
  }
  if (protocol_ == nullptr) {
    const double norm = UpdateNorm(id, base);
    const double rate = RateOfPush(id, request.round);
    if (std::optional<Refused> refused =
            CheckNorm(id, norm, update_bound_, rate, true)) {
      return refused;
    }
    update_bound_.Accept(norm, rate);
  }
  return std::nullopt;
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::AddToRound(
    const PushRequest& request) {
  const uint32_t id = request.worker;
  const std::span<const uint8_t> message = request.payloads.front();
  StatusOr<double> norm = protocol_->MessageNorm(message);
  if (!norm.ok()) {
    return Refuse(id, Refusal::kBadMessage, "decode", norm.status().message(),
                  true);
  }
  const double rate = RateOfPush(id, request.round);
  if (std::optional<Refused> refused =
          CheckNorm(id, *norm, update_bound_, rate, true)) {
    return refused;
  }
  Status status = protocol_->AddMessage(message);
  if (!status.ok()) {
    return Refuse(id, Refusal::kBadMessage, "decode", status.message(), true);
  }
  // With no second round the message holds the exact values.
  if (!protocol_->asks_values()) answered_.insert(id);
  update_bound_.Accept(*norm, rate);
  return std::nullopt;
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::DistanceTo(const Scalar* from) const {
  const Scalar* x = decoded_.data();
  // A gradient is its own update (from null: the origin).
  const std::array<double, 1> squares =
      from == nullptr
          ? SumsOfSquares<1>(
                decoded_.size(),
                [x](size_t, size_t i) { return static_cast<double>(x[i]); })
          : SumsOfSquares<1>(decoded_.size(), [x, from](size_t, size_t i) {
              return static_cast<double>(x[i]) - static_cast<double>(from[i]);
            });
  return std::sqrt(squares[0]);
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::UpdateNorm(
    uint32_t worker, const std::vector<Scalar>* base) const {
  // Minibatch SGD pushes its gradient; the local methods their model,
  // whose update is measured from its base when it is kept (relative
  // codecs), else from the current anchor; async, from the nearer of the
  // anchor and the worker's previous contribution (a straggler's model is
  // far from an anchor that moved on while it computed, not from its own
  // last push; a worker that joined again is near the anchor it pulled
  // toward, not its old contribution).
  if (options_.algorithm == Algorithm::kMinibatchSgd) {
    return DistanceTo(nullptr);
  }
  if (base != nullptr) return DistanceTo(base->data());
  const std::span<const Scalar> previous =
      options_.aggregator.mode == AggregationMode::kAsync
          ? aggregator_.contribution(worker)
          : std::span<const Scalar>();
  if (previous.empty()) return DistanceTo(anchor().data());
  // Both distances in one pass over the push.
  const Scalar* x = decoded_.data();
  const std::array<const Scalar*, 2> bases = {anchor().data(), previous.data()};
  const std::array<double, 2> squares =
      SumsOfSquares<2>(decoded_.size(), [x, &bases](size_t k, size_t i) {
        return static_cast<double>(x[i]) - static_cast<double>(bases[k][i]);
      });
  return std::sqrt(std::min(squares[0], squares[1]));
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::RateOfPush(uint32_t worker,
                                            uint64_t round) const {
  if (options_.algorithm == Algorithm::kMinibatchSgd) return 1.0;
  const Member& member = members_.at(worker);
  const int64_t own = static_cast<int64_t>(std::max(member.top_round, round)) *
                      options_.local_steps;
  const double rate = optim::ScheduledLearningRate(
      options_.schedule,
      std::max(own, static_cast<int64_t>(member.schedule_steps[1])));
  // Async: the pull moved it with the anchor, which moves at the run's rate.
  return options_.aggregator.mode == AggregationMode::kAsync
             ? std::max(rate, LearningRateOfProgress())
             : rate;
}

template <typename Scalar>
uint64_t BasicAnchorRound<Scalar>::TellProgress(Member& member) const {
  member.schedule_steps[1] = member.schedule_steps[0];
  member.schedule_steps[0] = static_cast<uint64_t>(ProgressStep());
  return member.schedule_steps[0];
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::CheckNorm(
    uint32_t worker, double norm, ContributionBound& bound, double rate,
    bool push) {
  const bool finite = std::isfinite(norm);
  const std::string why = finite ? bound.Check(norm, rate)
                                 : std::string("its update norm is not finite");
  if (why.empty()) return std::nullopt;
  if (finite) bound.Refuse(worker, live_workers(), norm, rate);
  return Refuse(worker, Refusal::kBadMessage, "update_norm",
                (push ? "push from " : "values from ") + Worker(worker) +
                    " refused: " + why,
                push);
}

template <typename Scalar>
std::optional<Refused> BasicAnchorRound<Scalar>::CheckReport(
    const PushRequest& request, const Member& member) {
  const uint32_t id = request.worker;
  const WorkerReport& report = request.report;
  std::string problem;
  const auto steps = static_cast<uint64_t>(options_.local_steps);
  if (report.local_steps > steps) {
    problem = "reports " + std::to_string(report.local_steps) +
              " local steps, more than the run's " + std::to_string(steps);
  } else if (options_.batch_size > 0 &&
             report.samples > report.local_steps *
                                  static_cast<uint64_t>(options_.batch_size)) {
    problem = "reports " + std::to_string(report.samples) + " examples for " +
              std::to_string(report.local_steps) + " steps of batch " +
              std::to_string(options_.batch_size);
  } else if (!std::isfinite(report.train_loss) || report.train_loss < 0 ||
             !std::isfinite(report.compute_seconds) ||
             report.compute_seconds < 0 ||
             !std::isfinite(report.sync_wait_seconds) ||
             report.sync_wait_seconds < 0 ||
             !std::isfinite(report.encode_seconds) ||
             report.encode_seconds < 0) {
    problem = "reports a loss or a time that is negative or not finite";
  } else if (report.quantized_pushes >
                 std::numeric_limits<uint64_t>::max() / kMaxReportedBits ||
             report.quantization_bits_sum >
                 report.quantized_pushes * kMaxReportedBits) {
    problem = "reports " + std::to_string(report.quantization_bits_sum) +
              " quantization bits for " +
              std::to_string(report.quantized_pushes) + " pushes, more than " +
              std::to_string(kMaxReportedBits) + " per push";
  }
  if (problem.empty()) problem = CheckFirstStep(request);
  if (!problem.empty()) {
    return Refuse(id, Refusal::kBadMessage, "statistics",
                  "push from " + Worker(id) + " " + problem, true);
  }
  if (request.round > member.next_round + kRoundSlack) {
    return Refuse(id, Refusal::kBadMessage, "round",
                  "push from " + Worker(id) + " for round " +
                      std::to_string(request.round) + ", but it may push " +
                      std::to_string(member.next_round) + " next",
                  true);
  }
  if (request.base_version > version()) {
    return Refuse(id, Refusal::kBadMessage, "base_version",
                  "push from " + Worker(id) + " names anchor v" +
                      std::to_string(request.base_version) +
                      " as its base, newer than the current v" +
                      std::to_string(version()),
                  true);
  }
  return std::nullopt;
}

template <typename Scalar>
std::string BasicAnchorRound<Scalar>::CheckFirstStep(
    const PushRequest& request) const {
  const int64_t first = request.report.first_step_unix_ns;
  if (first == 0) return "";
  const auto seconds = [](int64_t nanos) {
    char text[40];
    std::snprintf(text, sizeof(text), "%.3f",
                  static_cast<double>(nanos) * 1e-9);
    return std::string(text);
  };
  std::string claim =
      "reports its first local step at unix time " + seconds(first) + " s";
  if (first < 0) return claim;
  if (request.sent_unix_ns != 0 && first > request.sent_unix_ns) {
    return claim + ", after it sent this push (" +
           seconds(request.sent_unix_ns) + " s)";
  }
  // With a slack for another host's clock, without overflow.
  const int64_t received = request.received_unix_ns;
  if (received > 0 && first - kClockSlackNs > received) {
    return claim + ", " + seconds(first - received) +
           " s after the push arrived";
  }
  return "";
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::Record(const PushRequest& request,
                                      Member& member) {
  const uint64_t room =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - samples_);
  samples_ += static_cast<int64_t>(std::min(request.report.samples, room));
  member.top_round = std::max(member.top_round, request.round);
  const float loss = member.report.train_loss;
  member.report = request.report;
  member.reported = true;
  if (request.report.local_steps > 0) {
    member.has_loss = true;
  } else {
    member.report.train_loss = loss;
  }
  raw_bytes_up_ += codec_->raw_bytes();
  // A worker started again reports a later first step; its first one
  // counts. One from before the run started (beyond the clock slack) is
  // a worker that outlived an earlier server: it trains for this run, but
  // its start-up was another run's.
  const int64_t first = request.report.first_step_unix_ns;
  const bool before_start =
      started_unix_ns_ > 0 && first < started_unix_ns_ - kClockSlackNs;
  if (first > 0 && !before_start &&
      (member.first_step_unix_ns == 0 || first < member.first_step_unix_ns)) {
    member.first_step_unix_ns = first;
  }
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnPush(double now,
                                         const PushRequest& request) {
  Effects effects;
  const uint32_t id = request.worker;
  if (std::optional<Refused> stranger = CheckLive(id, "Push")) {
    effects.emplace_back(std::move(*stranger));
    return effects;
  }
  Member& member = members_.at(id);
  if (std::optional<Refused> refused = CheckReport(request, member)) {
    effects.emplace_back(std::move(*refused));
    return effects;
  }
  const bool async = options_.aggregator.mode == AggregationMode::kAsync;
  const uint64_t max_staleness = static_cast<uint64_t>(options_.max_staleness);
  if (async && max_staleness > 0 &&
      version() - request.base_version > max_staleness) {
    // Too old to apply: catch the worker up instead.
    Record(request, member);
    ++pushes_stale_;
    ++stale_dropped_;
    effects.emplace_back(PushStale{.worker = id});
    member.next_round = request.round + 1;
    SendAnchor(id, member.next_round, request.sent_unix_ns, nullptr, &effects);
    CountPush(request.round);
    MaybeCloseRound(now, false, &effects);
    CheckBudget(&effects);
    return effects;
  }
  bool second_round = false;
  if (std::optional<Refused> refused = Decode(request, &second_round)) {
    effects.emplace_back(std::move(*refused));
    return effects;
  }
  if (second_round) {
    ++pushes_stale_;
    effects.emplace_back(PushStale{.worker = id});
    return effects;
  }
  const uint64_t version_before = version();
  const double staleness =
      static_cast<double>(version_before) -
      static_cast<double>(std::min(request.base_version, version_before));
  if (async) {
    aggregator_.set_learning_rate(LearningRateOfProgress());
    if (options_.staleness_weight == StalenessWeight::kInverse) {
      Shrink(1.0 / (1.0 + staleness));
    } else if (options_.staleness_weight == StalenessWeight::kRounds) {
      Shrink(static_cast<double>(options_.workers) / (1.0 + staleness));
    }
  }
  Status status = aggregator_.Submit(id, request.round, &decoded_);
  if (status.code() == Status::Code::kOutOfRange) {
    effects.emplace_back(Refuse(
        id, Refusal::kBadMessage, "anchor_non_finite",
        "push from " + Worker(id) + " refused: " + status.message(), true));
    return effects;
  }
  Record(request, member);
  if (status.code() == Status::Code::kFailedPrecondition) {
    // Sync mode: the round this push belongs to already closed, or the
    // worker already contributed to it. Catch it up.
    ++pushes_stale_;
    effects.emplace_back(PushStale{.worker = id});
    member.next_round = round();
    SendAnchor(id, round(), request.sent_unix_ns, nullptr, &effects);
    CheckBudget(&effects);
    return effects;
  }
  ANCHORAGE_CHECK(status.ok(), "Submit of a verified push failed");
  ++pushes_applied_;
  staleness_sum_ += staleness;
  effects.emplace_back(PushApplied{.worker = id,
                                   .staleness = staleness,
                                   .push_sent_unix_ns = request.sent_unix_ns});
  if (async) {
    effects.emplace_back(
        VersionPublished{.version = version(),
                         .seconds_since_previous = now - last_version_time_});
    last_version_time_ = now;
    member.next_round = request.round + 1;
    if (!HoldReply(now, request, member)) {
      SendAnchor(id, member.next_round, request.sent_unix_ns, nullptr,
                 &effects);
    }
  } else if (aggregator_.pending() == 1) {
    first_in_round_ = now;
  }
  MaybeCloseRound(now, false, &effects);
  CheckBudget(&effects);
  return effects;
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::Shrink(double weight) {
  if (weight >= 1.0) return;
  const auto w = static_cast<Scalar>(weight);
  const std::span<const Scalar> z = anchor();
  for (size_t i = 0; i < decoded_.size(); ++i) {
    decoded_[i] = z[i] + w * (decoded_[i] - z[i]);
  }
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnValues(double now,
                                           const ValuesReply& reply) {
  Effects effects;
  const uint32_t id = reply.worker;
  if (std::optional<Refused> stranger = CheckLive(id, "Values")) {
    effects.emplace_back(std::move(*stranger));
    return effects;
  }
  if (!querying_ || reply.round != round() || awaiting_.erase(id) == 0) {
    effects.emplace_back(Refuse(id, Refusal::kBadMessage, "unexpected",
                                "values for round " +
                                    std::to_string(reply.round) +
                                    " that the server did not ask for",
                                false));
    return effects;
  }
  Status status = reply.payloads.size() == 1
                      ? Status::Ok()
                      : Status::DataLoss("values with " +
                                         std::to_string(reply.payloads.size()) +
                                         " payload frames, expected 1");
  const double norm = status.ok() ? ValuesNorm(reply.payloads.front()) : 0.0;
  std::optional<Refused> refused;
  if (status.ok()) refused = CheckNorm(id, norm, values_bound_, 1.0, false);
  if (status.ok() && !refused) {
    status = protocol_->AddValues(reply.payloads.front());
  }
  if (refused) {
    effects.emplace_back(std::move(*refused));
  } else if (status.ok()) {
    values_bound_.Accept(norm);
    answered_.insert(id);
  } else {
    effects.emplace_back(
        Refuse(id, Refusal::kBadMessage, "decode", status.message(), false));
  }
  MaybeCloseRound(now, false, &effects);
  CheckBudget(&effects);
  return effects;
}

template <typename Scalar>
Effects BasicAnchorRound<Scalar>::OnTick(double now) {
  Effects effects;
  if (start_due_ && now >= *start_due_) ReleaseStart(&effects);
  MaybeCloseRound(now, now - round_opened_ > options_.round_deadline_seconds,
                  &effects);
  CheckBudget(&effects);
  return effects;
}

template <typename Scalar>
double BasicAnchorRound<Scalar>::next_deadline() const {
  double next = start_due_.value_or(std::numeric_limits<double>::infinity());
  for (const auto& [id, member] : members_) {
    if (member.held_due) next = std::min(next, *member.held_due);
  }
  return next;
}

template <typename Scalar>
bool BasicAnchorRound<Scalar>::HoldReply(double now, const PushRequest& request,
                                         Member& member) {
  const double previous = member.last_push_seconds;
  const double interval = previous < 0 ? 0.0 : now - previous;
  const double shorter = member.last_interval > 0
                             ? std::min(interval, member.last_interval)
                             : interval;
  member.last_push_seconds = now;
  member.last_interval = interval;
  if (options_.reply_wait <= 0) return false;
  CountPush(request.round);
  // Its first push has no interval to scale the wait by.
  if (shorter <= 0) return false;
  member.held_due = now + options_.reply_wait * shorter;
  member.held_round = request.round;
  member.held_sent_unix_ns = request.sent_unix_ns;
  return true;
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::CountPush(uint64_t round) {
  if (options_.reply_wait <= 0) return;
  ++pushed_in_round_[round];
  // Bounded whatever rounds the workers claim: a round this far behind
  // the newest is a straggler's, whose reply waits out its time.
  constexpr size_t kRoundsKept = 4096;
  while (pushed_in_round_.size() > kRoundsKept) {
    pushed_in_round_.erase(pushed_in_round_.begin());
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::ReleaseReplies(double now, Effects* effects) {
  if (options_.reply_wait <= 0) return;
  const int live = live_workers();
  uint64_t oldest = UINT64_MAX;
  for (auto& [id, member] : members_) {
    if (!member.live) continue;
    oldest = std::min(oldest, member.next_round);
    if (!member.held_due) continue;
    const auto pushed = pushed_in_round_.find(member.held_round);
    const bool complete =
        pushed != pushed_in_round_.end() && pushed->second >= live;
    if (!complete && now < *member.held_due) continue;
    member.held_due.reset();
    SendAnchor(id, member.next_round, member.held_sent_unix_ns, nullptr,
               effects);
  }
  // A live worker pushes its next round next: older counts are done with.
  if (oldest != UINT64_MAX && oldest > 0) {
    pushed_in_round_.erase(pushed_in_round_.begin(),
                           pushed_in_round_.lower_bound(oldest - 1));
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::MaybeCloseRound(double now, bool deadline_passed,
                                               Effects* effects) {
  if (options_.aggregator.mode != AggregationMode::kSync) {
    ReleaseReplies(now, effects);
    return;
  }
  if (querying_) {
    const bool answered =
        std::none_of(awaiting_.begin(), awaiting_.end(),
                     [this](uint32_t id) { return IsLive(id); });
    if (answered || deadline_passed) CloseRound(now, effects);
    return;
  }
  const int live = live_workers();
  const int pending = aggregator_.pending();
  if (pending == 0) {
    if (deadline_passed) round_opened_ = now;
    return;
  }
  // Round 0 waits for every expected worker; later rounds for the live
  // ones, so a lost worker does not stall the rest.
  bool all_in = round() > 0 || live >= options_.workers;
  for (const auto& [id, member] : members_) {
    if (member.live && !aggregator_.HasPending(id)) all_in = false;
  }
  const bool quorum =
      pending >= static_cast<int>(std::ceil(options_.quorum * live));
  if (!all_in && !(deadline_passed && quorum)) return;
  if (protocol_ != nullptr && protocol_->asks_values()) {
    StartQuery(now, effects);
  } else {
    CloseRound(now, effects);
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::StartQuery(double now, Effects* effects) {
  auto candidates =
      std::make_shared<const std::vector<uint32_t>>(protocol_->Candidates());
  querying_ = true;
  round_opened_ = now;  // the second round gets its own deadline
  for (const auto& [id, member] : members_) {
    if (!member.live || !aggregator_.HasPending(id)) continue;
    effects->emplace_back(
        Query{.worker = id, .round = round(), .candidates = candidates});
    awaiting_.insert(id);
  }
  MaybeCloseRound(now, false, effects);
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::CloseRound(double now, Effects* effects) {
  const double lr = LearningRateOfRound(round());
  aggregator_.set_learning_rate(lr);
  std::shared_ptr<const std::vector<uint32_t>> applied;
  const bool contributed = aggregator_.pending() > 0;
  bool published = false;
  if (protocol_ != nullptr && contributed) {
    // Gradients become displacements at the round's learning rate;
    // pseudo-gradients are displacements already.
    const codec::RoundScale scale{
        .contributors = aggregator_.pending(),
        .learning_rate =
            TraitsOf(options_.algorithm).sends_gradient ? lr : 1.0};
    protocol_->Finish(scale, &update_indices_, &update_values_);
    const typename BasicAggregator<Scalar>::SparseUpdate update{
        .indices = update_indices_,
        .values = update_values_,
        .sign = relative_ ? static_cast<Scalar>(-1) : static_cast<Scalar>(1)};
    published = aggregator_.CloseRound(&update);
    if (published && protocol_->tells_applied()) {
      applied = std::make_shared<const std::vector<uint32_t>>(update_indices_);
    }
  } else {
    published = aggregator_.CloseRound();
  }
  if (published) {
    effects->emplace_back(VersionPublished{
        .version = version(),
        .seconds_since_previous = now - last_version_time_,
        .straggler_seconds = contributed ? now - first_in_round_ : 0.0,
        .sync = true});
    last_version_time_ = now;
  } else {
    // The round's sum would make the anchor non-finite: it is discarded
    // and every worker goes on from the anchor it has.
    ++refused_;
    ++refusals_["anchor_non_finite"];
  }
  round_opened_ = now;
  for (auto& [id, member] : members_) {
    if (!member.live) continue;
    member.next_round = round();
    SendAnchor(id, round(), 0, answered_.contains(id) ? applied : nullptr,
               effects);
  }
  if (protocol_ != nullptr) {
    protocol_->Begin();
    querying_ = false;
    awaiting_.clear();
    answered_.clear();
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::SendAnchor(
    uint32_t worker, uint64_t next_round, int64_t sent_unix_ns,
    const std::shared_ptr<const std::vector<uint32_t>>& applied,
    Effects* effects) {
  Publish();
  Member& member = members_.at(worker);
  effects->emplace_back(AnchorUpdate{.worker = worker,
                                     .version = published_version_,
                                     .next_round = next_round,
                                     .push_sent_unix_ns = sent_unix_ns,
                                     .applied = applied,
                                     .schedule_step = TellProgress(member)});
  RecordBase(member);
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::CheckBudget(Effects* effects) {
  if (finished()) return;
  const double epochs = static_cast<double>(samples_) /
                        static_cast<double>(options_.examples_per_epoch);
  if (options_.epochs > 0 && epochs >= options_.epochs) {
    finish_reason_ = "reached " + std::to_string(options_.epochs) + " epochs";
  } else if (options_.max_versions > 0 &&
             version() >= static_cast<uint64_t>(options_.max_versions)) {
    finish_reason_ =
        "reached " + std::to_string(options_.max_versions) + " anchor versions";
  } else {
    return;
  }
  effects->emplace_back(Finished{.reason = finish_reason_});
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::Publish() {
  const uint64_t every = options_.aggregator.mode == AggregationMode::kAsync
                             ? static_cast<uint64_t>(options_.publish_every)
                             : 1;
  if (published_ != nullptr && version() < published_version_ + every) return;
  auto snapshot =
      std::make_shared<std::vector<Scalar>>(anchor().begin(), anchor().end());
  if constexpr (std::is_same_v<Scalar, float>) {
    if (options_.anchor_codec != "dense") {
      if (anchor_codec_ == nullptr) {
        anchor_codec_ = codec::MakeCodec(options_.anchor_codec, dim()).value();
      }
      // Rounded as the workers will decode it (the anchor is finite, so
      // neither step can fail); the bytes are what the server sends.
      auto bytes = std::make_shared<std::vector<uint8_t>>();
      Status status = anchor_codec_->Encode(*snapshot, bytes.get());
      if (status.ok()) status = anchor_codec_->Decode(*bytes, *snapshot);
      ANCHORAGE_CHECK(status.ok(), "rounding the anchor failed");
      published_bytes_ = std::move(bytes);
    }
  }
  published_ = std::move(snapshot);
  published_version_ = version();
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::RecordBase(Member& member) {
  if (!relative_) return;
  DropStaleBases();
  if (member.bases[0] == published_version_) return;
  Base& base = bases_[published_version_];
  if (base.values == nullptr) base.values = published_;
  ++base.references;
  const uint64_t dropped = member.bases[1];
  member.bases[1] = member.bases[0];
  member.bases[0] = published_version_;
  if (dropped != kNoVersion) {
    auto it = bases_.find(dropped);
    if (--it->second.references == 0) bases_.erase(it);
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::DropStaleBases() {
  const auto max_staleness = static_cast<uint64_t>(options_.max_staleness);
  if (max_staleness == 0 || version() <= max_staleness ||
      options_.aggregator.mode != AggregationMode::kAsync) {
    return;
  }
  const uint64_t oldest = version() - max_staleness;
  while (!bases_.empty() && bases_.begin()->first < oldest) {
    const uint64_t gone = bases_.begin()->first;
    for (auto& [id, member] : members_) {
      for (uint64_t& base : member.bases) {
        if (base == gone) base = kNoVersion;
      }
    }
    bases_.erase(bases_.begin());
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::ReleaseBases(Member& member) {
  for (uint64_t& version : member.bases) {
    if (version == kNoVersion) continue;
    auto it = bases_.find(version);
    if (--it->second.references == 0) bases_.erase(it);
    version = kNoVersion;
  }
}

template <typename Scalar>
const std::vector<Scalar>* BasicAnchorRound<Scalar>::FindBase(
    const Member& member, uint64_t version) const {
  if (version == kNoVersion ||
      (member.bases[0] != version && member.bases[1] != version)) {
    return nullptr;
  }
  return bases_.at(version).values.get();
}

template <typename Scalar>
RoundStats BasicAnchorRound<Scalar>::stats() const {
  RoundStats stats;
  stats.version = version();
  stats.samples = samples_;
  stats.epochs = static_cast<double>(samples_) /
                 static_cast<double>(options_.examples_per_epoch);
  stats.pushes_applied = pushes_applied_;
  stats.pushes_rejected = pushes_rejected_;
  stats.pushes_stale = pushes_stale_;
  stats.stale_dropped = stale_dropped_;
  stats.refused_messages = refused_;
  stats.refusals = refusals_;
  stats.staleness_mean =
      pushes_applied_ > 0
          ? staleness_sum_ / static_cast<double>(pushes_applied_)
          : 0.0;
  stats.raw_bytes_up = raw_bytes_up_;
  int reporting = 0;
  int with_loss = 0;
  // In double: a hostile report's counts may each be near 2^64.
  double quantized_pushes = 0;
  double quantization_bits = 0;
  for (const auto& [id, member] : members_) {
    if (!member.reported) continue;
    ++reporting;
    stats.compute_seconds_mean += member.report.compute_seconds;
    stats.sync_wait_seconds_mean += member.report.sync_wait_seconds;
    stats.encode_seconds_mean += member.report.encode_seconds;
    quantized_pushes += static_cast<double>(member.report.quantized_pushes);
    quantization_bits +=
        static_cast<double>(member.report.quantization_bits_sum);
    if (member.has_loss) {
      stats.train_loss += member.report.train_loss;
      ++with_loss;
    }
  }
  if (reporting > 0) {
    stats.compute_seconds_mean /= reporting;
    stats.sync_wait_seconds_mean /= reporting;
    stats.encode_seconds_mean /= reporting;
  }
  if (with_loss > 0) stats.train_loss /= with_loss;
  if (quantized_pushes > 0) {
    stats.quantization_bits_mean = quantization_bits / quantized_pushes;
  }
  stats.started_unix_ns = started_unix_ns_;
  int stepped = 0;
  for (const auto& [id, member] : members_) {
    if (member.first_step_unix_ns == 0) continue;
    ++stepped;
    stats.first_steps_unix_ns =
        std::max(stats.first_steps_unix_ns, member.first_step_unix_ns);
    if (stats.first_step_unix_ns == 0 ||
        member.first_step_unix_ns < stats.first_step_unix_ns) {
      stats.first_step_unix_ns = member.first_step_unix_ns;
    }
  }
  if (stepped < options_.workers) stats.first_steps_unix_ns = 0;
  stats.lost_workers = lost_;
  stats.finish_reason = finish_reason_;
  return stats;
}

template <typename Scalar>
std::vector<uint8_t> BasicAnchorRound<Scalar>::Save() const {
  ByteWriter out;
  // An upper bound of the vectors of dim() values: the anchor, the round's
  // sum, the outer rule's buffers, a slot per member and the kept bases.
  const size_t vectors = 4 + members_.size() + bases_.size();
  out.Reserve(vectors * static_cast<size_t>(dim()) * sizeof(Scalar) +
              (size_t{1} << 20));
  out.U32(kStateMagic);
  out.U32(kStateFormat);
  out.U32(sizeof(Scalar));
  aggregator_.Save(&out);
  out.Bool(protocol_ != nullptr);
  if (protocol_ != nullptr) protocol_->Save(&out);
  out.Bool(querying_);
  out.U32s(std::vector<uint32_t>(awaiting_.begin(), awaiting_.end()));
  out.U32s(std::vector<uint32_t>(answered_.begin(), answered_.end()));
  SaveMembers(&out);
  out.U64(bases_.size());
  for (const auto& [version, base] : bases_) {
    out.U64(version);
    out.Scalars<Scalar>(*base.values);
  }
  out.F64(round_opened_);
  out.F64(first_in_round_);
  out.F64(last_version_time_);
  out.I64(samples_);
  out.I64(pushes_applied_);
  out.I64(pushes_rejected_);
  out.I64(pushes_stale_);
  out.I64(stale_dropped_);
  out.I64(refused_);
  out.U64(refusals_.size());
  for (const auto& [reason, count] : refusals_) {
    out.String(reason);
    out.I64(count);
  }
  update_bound_.Save(&out);
  values_bound_.Save(&out);
  out.F64(staleness_sum_);
  out.I64(raw_bytes_up_);
  out.I64(started_unix_ns_);
  out.U32s(lost_);
  out.String(finish_reason_);
  return out.Take();
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::SaveMembers(ByteWriter* out) const {
  out->U64(members_.size());
  for (const auto& [id, member] : members_) {
    out->U32(id);
    out->Bool(member.live);
    out->U64(member.incarnation);
    out->U64(member.next_round);
    out->U64(member.top_round);
    out->U64(member.bases[0]);
    out->U64(member.bases[1]);
    out->U64(member.schedule_steps[0]);
    out->U64(member.schedule_steps[1]);
    const WorkerReport& report = member.report;
    out->U64(report.samples);
    out->U64(report.local_steps);
    out->F64(report.train_loss);
    out->F64(report.compute_seconds);
    out->F64(report.sync_wait_seconds);
    out->F64(report.encode_seconds);
    out->U64(report.quantized_pushes);
    out->U64(report.quantization_bits_sum);
    out->Bool(member.reported);
    out->Bool(member.has_loss);
    out->I64(member.first_step_unix_ns);
  }
}

template <typename Scalar>
Status BasicAnchorRound<Scalar>::Load(std::span<const uint8_t> bytes) {
  ByteReader in(bytes);
  if (in.U32() != kStateMagic) in.Fail("not a round state (bad magic)");
  const uint32_t format = in.U32();
  if (in.ok() && format != kStateFormat) {
    in.Fail("round state format " + std::to_string(format) +
            ", this build reads " + std::to_string(kStateFormat));
  }
  if (in.ok() && in.U32() != sizeof(Scalar)) {
    in.Fail("round state of another precision");
  }
  if (!in.ok()) return in.status();
  Status status = aggregator_.Load(&in);
  if (!status.ok()) return status;
  if (in.Bool() != (protocol_ != nullptr)) {
    in.Fail("round state of another codec");
  }
  if (protocol_ != nullptr && in.ok()) {
    status = protocol_->Load(&in);
    if (!status.ok()) return status;
  }
  const auto workers = static_cast<uint64_t>(options_.workers);
  querying_ = in.Bool();
  std::vector<uint32_t> awaiting;
  std::vector<uint32_t> answered;
  in.U32s(&awaiting, workers);
  in.U32s(&answered, workers);
  awaiting_ = {awaiting.begin(), awaiting.end()};
  answered_ = {answered.begin(), answered.end()};
  LoadMembers(&in);
  LoadBases(&in);
  round_opened_ = in.F64();
  first_in_round_ = in.F64();
  last_version_time_ = in.F64();
  samples_ = in.I64();
  pushes_applied_ = in.I64();
  pushes_rejected_ = in.I64();
  pushes_stale_ = in.I64();
  stale_dropped_ = in.I64();
  refused_ = in.I64();
  LoadRefusals(&in);
  update_bound_.Load(&in);
  values_bound_.Load(&in);
  staleness_sum_ = in.F64();
  raw_bytes_up_ = in.I64();
  started_unix_ns_ = in.I64();
  in.U32s(&lost_, workers);
  finish_reason_ = in.String();
  // A run that has applied or counted anything has begun: its workers
  // rejoin without waiting for each other.
  started_ = aggregator_.version() > 0 || samples_ > 0;
  start_due_.reset();
  waiting_.clear();
  published_ = nullptr;
  Publish();
  return in.Finish();
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::LoadRefusals(ByteReader* in) {
  // The reasons are the round core's own few labels.
  constexpr uint64_t kMaxReasons = 64;
  const uint64_t count = in->U64();
  if (count > kMaxReasons) in->Fail("more refusal reasons than there are");
  refusals_.clear();
  for (uint64_t n = 0; n < count && in->ok(); ++n) {
    std::string reason = in->String();
    const int64_t refusals = in->I64();
    if (in->ok() && refusals < 0) in->Fail("a negative refusal count");
    refusals_[std::move(reason)] = refusals;
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::LoadMembers(ByteReader* in) {
  const auto workers = static_cast<uint64_t>(options_.workers);
  const uint64_t count = in->U64();
  if (count > workers) in->Fail("more members than workers");
  members_.clear();
  for (uint64_t n = 0; n < count && in->ok(); ++n) {
    const uint32_t id = in->U32();
    if (id >= workers || members_.contains(id)) {
      in->Fail("a member id out of range or repeated");
    }
    Member& member = members_[id];
    member.live = in->Bool();
    member.incarnation = in->U64();
    member.next_round = in->U64();
    member.top_round = in->U64();
    member.bases[0] = in->U64();
    member.bases[1] = in->U64();
    member.schedule_steps[0] = in->U64();
    member.schedule_steps[1] = in->U64();
    WorkerReport& report = member.report;
    report.samples = in->U64();
    report.local_steps = in->U64();
    report.train_loss = static_cast<float>(in->F64());
    report.compute_seconds = in->F64();
    report.sync_wait_seconds = in->F64();
    report.encode_seconds = in->F64();
    report.quantized_pushes = in->U64();
    report.quantization_bits_sum = in->U64();
    member.reported = in->Bool();
    member.has_loss = in->Bool();
    member.first_step_unix_ns = in->I64();
    if (in->ok() && member.live != aggregator_.HasWorker(id)) {
      in->Fail(Worker(id) + "'s membership and slot disagree");
    }
  }
}

template <typename Scalar>
void BasicAnchorRound<Scalar>::LoadBases(ByteReader* in) {
  const uint64_t count = in->U64();
  if (count > 2 * static_cast<uint64_t>(options_.workers)) {
    in->Fail("more kept bases than workers hold");
  }
  bases_.clear();
  for (uint64_t n = 0; n < count && in->ok(); ++n) {
    const uint64_t version = in->U64();
    std::vector<Scalar> values;
    in->Scalars(&values, static_cast<uint64_t>(dim()));
    if (in->ok() && values.size() != static_cast<size_t>(dim())) {
      in->Fail("a kept base of another dimension");
    }
    bases_[version].values =
        std::make_shared<const std::vector<Scalar>>(std::move(values));
  }
  // The references are the members' bases, each of which must be kept.
  for (const auto& [id, member] : members_) {
    for (const uint64_t version : member.bases) {
      if (version == kNoVersion) continue;
      auto it = bases_.find(version);
      if (it == bases_.end()) {
        in->Fail(Worker(id) + " references a base that is not kept");
        return;
      }
      ++it->second.references;
    }
  }
  if (std::any_of(bases_.begin(), bases_.end(), [](const auto& entry) {
        return entry.second.references == 0;
      })) {
    in->Fail("a kept base that no worker references");
  }
}

template class BasicAnchorRound<float>;
template class BasicAnchorRound<double>;

}  // namespace anchorage::algo
