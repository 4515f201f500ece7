#include "common/codec/sketch_round.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "common/base/format.h"

namespace anchorage::codec {
namespace {

// Returns `shape` after checking the server's parameters (a failure aborts).
SketchShape Checked(const SketchShape& shape, int64_t k) {
  ANCHORAGE_CHECK(CountSketch::ValidateShape(shape).ok(),
                  "invalid sketch shape");
  ANCHORAGE_CHECK(k >= 1 && k <= shape.dim, "sketch k out of range");
  return shape;
}

}  // namespace

SketchedSgdRound::SketchedSgdRound(const SketchShape& shape, int64_t k,
                                   int candidates_factor)
    : k_(k),
      candidate_count_(std::min(k * candidates_factor, shape.dim)),
      sum_(Checked(shape, k)),
      scratch_(static_cast<size_t>(shape.dim)) {
  ANCHORAGE_CHECK(candidates_factor >= 1, "sketch candidates factor < 1");
}

void SketchedSgdRound::Begin() {
  sum_.Clear();
  have_candidates_ = false;
  candidates_.clear();
  exact_.clear();
}

Status SketchedSgdRound::AddMessage(std::span<const uint8_t> bytes) {
  if (have_candidates_) {
    return Status::FailedPrecondition(
        "sketch arrived after the round's candidates were chosen");
  }
  return sum_.MergeSerialized(bytes);
}

const std::vector<uint32_t>& SketchedSgdRound::Candidates() {
  if (!have_candidates_) {
    sum_.EstimateAll(scratch_);
    LargestMagnitudes(scratch_, candidate_count_, &candidates_);
    exact_.assign(candidates_.size(), 0.0);
    have_candidates_ = true;
  }
  return candidates_;
}

Status SketchedSgdRound::AddValues(std::span<const uint8_t> bytes) {
  if (!have_candidates_) {
    return Status::FailedPrecondition(
        "exact values arrived before the round's candidates were chosen");
  }
  const size_t count = candidates_.size();
  if (bytes.size() != count * sizeof(float)) {
    return Status::DataLoss(
        "exact values have " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(count * sizeof(float)) +
        " (4 per candidate, " + std::to_string(count) + " candidates)");
  }
  // Staged as floats (the bytes may be at any address) and checked before
  // any is added.
  float* values = scratch_.data();
  std::memcpy(values, bytes.data(), bytes.size());
  for (size_t n = 0; n < count; ++n) {
    if (std::isfinite(values[n])) continue;
    return Status::DataLoss("exact value " + std::to_string(n) +
                            " (coordinate " + std::to_string(candidates_[n]) +
                            ") is " + FormatValue(values[n]) + ", not finite");
  }
  for (size_t n = 0; n < count; ++n) {
    exact_[n] += values[n];
  }
  return Status::Ok();
}

void SketchedSgdRound::Finish(const RoundScale& /*scale*/,
                              std::vector<uint32_t>* indices,
                              std::vector<float>* sums) {
  ANCHORAGE_CHECK(have_candidates_, "Finish before Candidates");
  const size_t count = candidates_.size();
  std::span<float> exact(scratch_.data(), count);
  for (size_t n = 0; n < count; ++n) {
    exact[n] = static_cast<float>(exact_[n]);
  }
  // Positions among the candidates first, which order like their indices.
  LargestMagnitudes(exact, k_, indices);
  sums->resize(indices->size());
  for (size_t m = 0; m < indices->size(); ++m) {
    const uint32_t position = (*indices)[m];
    (*sums)[m] = exact[position];
    (*indices)[m] = candidates_[position];
  }
}

void SketchedSgdRound::Save(ByteWriter* out) const {
  sum_.SaveCells(out);
  out->Bool(have_candidates_);
  out->U32s(candidates_);
  out->Doubles(exact_);
}

Status SketchedSgdRound::Load(ByteReader* in) {
  sum_.LoadCells(in);
  have_candidates_ = in->Bool();
  in->U32s(&candidates_, static_cast<uint64_t>(candidate_count_));
  in->Doubles(&exact_, static_cast<uint64_t>(candidate_count_));
  const auto dim = static_cast<uint32_t>(sum_.shape().dim);
  if (in->ok() &&
      (exact_.size() != candidates_.size() ||
       (have_candidates_ &&
        candidates_.size() != static_cast<size_t>(candidate_count_)) ||
       std::any_of(candidates_.begin(), candidates_.end(),
                   [dim](uint32_t i) { return i >= dim; }))) {
    in->Fail("sketch round: candidates and their sums do not fit the shape");
  }
  return in->status();
}

FetchSgdServer::FetchSgdServer(const SketchShape& shape, int64_t k,
                               double momentum)
    : k_(k),
      rho_(static_cast<float>(momentum)),
      round_(Checked(shape, k)),
      momentum_(shape),
      error_(shape),
      estimates_(static_cast<size_t>(shape.dim)) {
  ANCHORAGE_CHECK(momentum >= 0 && momentum < 1, "momentum out of [0, 1)");
}

void FetchSgdServer::Begin() {
  round_.Clear();
}

const std::vector<uint32_t>& FetchSgdServer::Candidates() {
  ANCHORAGE_CHECK(false, "fetchsgd has no candidates");
  static const std::vector<uint32_t> kNone;
  return kNone;
}

Status FetchSgdServer::AddValues(std::span<const uint8_t> /*bytes*/) {
  return Status::FailedPrecondition("fetchsgd asks no exact values");
}

void FetchSgdServer::Save(ByteWriter* out) const {
  round_.SaveCells(out);
  momentum_.SaveCells(out);
  error_.SaveCells(out);
}

Status FetchSgdServer::Load(ByteReader* in) {
  round_.LoadCells(in);
  momentum_.LoadCells(in);
  error_.LoadCells(in);
  return in->status();
}

Status FetchSgdServer::AddMessage(std::span<const uint8_t> bytes) {
  return round_.MergeSerialized(bytes);
}

void FetchSgdServer::Finish(const RoundScale& scale,
                            std::vector<uint32_t>* indices,
                            std::vector<float>* values) {
  ANCHORAGE_CHECK(scale.contributors >= 1, "fetchsgd round of no message");
  ANCHORAGE_CHECK(scale.learning_rate > 0, "fetchsgd learning rate <= 0");
  const double contributors = scale.contributors;
  momentum_.Scale(rho_);
  Status status =
      momentum_.Merge(round_, static_cast<float>(1.0 / contributors));
  ANCHORAGE_CHECK(status.ok(), "round and momentum sketches differ");
  status = error_.Merge(momentum_, static_cast<float>(scale.learning_rate));
  ANCHORAGE_CHECK(status.ok(), "momentum and error sketches differ");
  error_.EstimateAll(estimates_);
  LargestMagnitudes(estimates_, k_, indices);
  values->resize(indices->size());
  moved_.clear();
  const double to_messages = contributors / scale.learning_rate;
  for (size_t m = 0; m < indices->size(); ++m) {
    const float applied = estimates_[(*indices)[m]];
    (*values)[m] = static_cast<float>(applied * to_messages);
    if (applied != 0.0F) moved_.push_back((*indices)[m]);
  }
  momentum_.ZeroBucketsOf(moved_);
  error_.ZeroBucketsOf(moved_);
}

}  // namespace anchorage::codec
