#include "common/algo/outer_rule.h"

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
void OuterRule<Scalar>::Apply(std::span<Scalar> anchor,
                              std::span<const Scalar> target, double lr) {
  ANCHORAGE_CHECK(anchor.size() == target.size(), "outer rule size mismatch");
  const size_t n = anchor.size();
  if (plain_average_) {
    for (size_t i = 0; i < n; ++i) {
      anchor[i] = target[i];
    }
    return;
  }
  const auto alpha = static_cast<Scalar>(options_.alpha);
  const auto beta = static_cast<Scalar>(options_.beta);
  const auto gamma = static_cast<Scalar>(lr);
  switch (options_.algorithm) {
    case Algorithm::kDiLoCo:
      for (size_t i = 0; i < n; ++i) {
        const Scalar delta = anchor[i] - target[i];
        buffer_[i] = beta * buffer_[i] + delta;
        anchor[i] -= alpha * (delta + beta * buffer_[i]);
      }
      return;
    case Algorithm::kMinibatchSgd: {
      const auto mu = static_cast<Scalar>(options_.momentum);
      const auto wd = static_cast<Scalar>(options_.weight_decay);
      for (size_t i = 0; i < n; ++i) {
        const Scalar d = target[i] + wd * anchor[i];
        buffer_[i] = mu * buffer_[i] + d;
        anchor[i] -=
            gamma * (options_.nesterov ? d + mu * buffer_[i] : buffer_[i]);
      }
      return;
    }
    default:
      // The SlowMo form; local-sgd and overlap-local-sgd have α = 1.
      for (size_t i = 0; i < n; ++i) {
        buffer_[i] = beta * buffer_[i] + (anchor[i] - target[i]) / gamma;
        anchor[i] -= alpha * gamma * buffer_[i];
      }
      return;
  }
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
