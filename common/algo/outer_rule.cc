#include "common/algo/outer_rule.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/base/check.h"

namespace anchorage::algo {

template <typename Scalar>
OuterRule<Scalar>::OuterRule(const OuterOptions& options, int64_t dim)
    : options_(options),
      plain_average_(options.algorithm != Algorithm::kMinibatchSgd &&
                     options.algorithm != Algorithm::kDiLoCo &&
                     options.beta == 0.0 && options.alpha == 1.0),
      buffer_(plain_average_ ? 0 : static_cast<size_t>(dim),
              static_cast<Scalar>(0)) {}

template <typename Scalar>
bool OuterRule<Scalar>::Propose(std::span<const Scalar> anchor,
                                std::span<const Scalar> target, double lr,
                                std::span<Scalar> next) {
  ANCHORAGE_CHECK(
      anchor.size() == target.size() && next.size() == anchor.size(),
      "outer rule size mismatch");
  const size_t n = anchor.size();
  if (plain_average_) {
    std::copy(target.begin(), target.end(), next.begin());
    return AllFinite<Scalar>(next);
  }
  next_buffer_.resize(n);
  const auto alpha = static_cast<Scalar>(options_.alpha);
  const auto beta = static_cast<Scalar>(options_.beta);
  const auto gamma = static_cast<Scalar>(lr);
  switch (options_.algorithm) {
    case Algorithm::kDiLoCo:
      for (size_t i = 0; i < n; ++i) {
        const Scalar delta = anchor[i] - target[i];
        next_buffer_[i] = beta * buffer_[i] + delta;
        next[i] = anchor[i] - alpha * (delta + beta * next_buffer_[i]);
      }
      break;
    case Algorithm::kMinibatchSgd: {
      const auto mu = static_cast<Scalar>(options_.momentum);
      const auto wd = static_cast<Scalar>(options_.weight_decay);
      for (size_t i = 0; i < n; ++i) {
        const Scalar d = target[i] + wd * anchor[i];
        next_buffer_[i] = mu * buffer_[i] + d;
        next[i] =
            anchor[i] - gamma * (options_.nesterov ? d + mu * next_buffer_[i]
                                                   : next_buffer_[i]);
      }
      break;
    }
    default:
      // The SlowMo form; local-sgd and overlap-local-sgd have α = 1.
      for (size_t i = 0; i < n; ++i) {
        next_buffer_[i] = beta * buffer_[i] + (anchor[i] - target[i]) / gamma;
        next[i] = anchor[i] - alpha * gamma * next_buffer_[i];
      }
      break;
  }
  return AllFinite<Scalar>(next) &&
         AllFinite<Scalar>(std::span<const Scalar>(next_buffer_));
}

template <typename Scalar>
void OuterRule<Scalar>::Load(ByteReader* in) {
  std::vector<Scalar> buffer;
  in->Scalars(&buffer, buffer_.size());
  if (!in->ok()) return;
  if (buffer.size() != buffer_.size()) {
    in->Fail("an outer-rule buffer of " + std::to_string(buffer.size()) +
             " values, expected " + std::to_string(buffer_.size()));
    return;
  }
  buffer_ = std::move(buffer);
}

template class OuterRule<float>;
template class OuterRule<double>;

}  // namespace anchorage::algo
