#include "common/algo/contribution_bound.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/base/format.h"

namespace anchorage::algo {

double ContributionBound::Limit(double rate) const {
  double limit = std::numeric_limits<double>::infinity();
  if (options_.max_norm > 0) limit = options_.max_norm;
  if (options_.factor > 0 && recent_.size() >= kWarmup) {
    std::vector<double> sorted = recent_;
    const auto middle =
        sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
    std::nth_element(sorted.begin(), middle, sorted.end());
    limit = std::min(limit, options_.factor * *middle * rate);
  }
  return limit;
}

std::string ContributionBound::Check(double norm, double rate) const {
  const double limit = Limit(rate);
  if (norm <= limit) return "";
  const bool absolute = options_.max_norm > 0 && limit == options_.max_norm;
  return "its update norm " + FormatValue(norm) + " exceeds " +
         FormatValue(limit) +
         (absolute ? " (--max-update-norm)"
                   : " (--update-norm-factor " + FormatValue(options_.factor) +
                         " times the median of recent contributions)");
}

void ContributionBound::Accept(double norm, double rate) {
  refused_.clear();
  // A zero update (a worker with nothing to add) says nothing about the
  // scale of the others; a median of zeros would refuse every later one.
  if (norm == 0 || !(rate > 0)) return;
  norm /= rate;
  if (recent_.size() < kWindow) {
    recent_.push_back(norm);
  } else {
    recent_[next_] = norm;
    next_ = (next_ + 1) % kWindow;
  }
}

void ContributionBound::Refuse(uint32_t source, int sources, double norm,
                               double rate) {
  // The absolute bound is the operator's, and stays; a norm far beyond the
  // adaptive one is an outlier, not a sign the norms moved.
  if (options_.max_norm > 0 && norm > options_.max_norm) return;
  if (norm > options_.factor * Limit(rate)) return;
  if (std::find(refused_.begin(), refused_.end(), source) == refused_.end()) {
    refused_.push_back(source);
  }
  if (2 * refused_.size() > static_cast<size_t>(std::max(sources, 1))) {
    recent_.clear();
    next_ = 0;
    refused_.clear();
  }
}

void ContributionBound::Save(ByteWriter* out) const {
  out->Doubles(recent_);
  out->U64(next_);
  out->U32s(refused_);
}

void ContributionBound::Load(ByteReader* in) {
  in->Doubles(&recent_, kWindow);
  next_ = in->U64();
  in->U32s(&refused_, kMaxSources);
  const bool bad_norm =
      std::any_of(recent_.begin(), recent_.end(),
                  [](double x) { return !std::isfinite(x) || x < 0; });
  if (in->ok() && (bad_norm || next_ >= kWindow ||
                   (recent_.size() < kWindow && next_ != 0))) {
    in->Fail("malformed contribution norms");
  }
}

}  // namespace anchorage::algo
