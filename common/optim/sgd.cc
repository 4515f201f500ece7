#include "common/optim/sgd.h"

#include <cmath>
#include <string>

#include "common/base/check.h"
#include "common/base/format.h"

namespace anchorage::optim {
namespace {

Status BadField(const char* field, const std::string& want,
                const std::string& got) {
  return Status::InvalidArgument(std::string("sgd ") + field + " must be " +
                                 want + ", got " + got);
}

}  // namespace

Status SgdOptions::Validate() const {
  // Written so that NaN fails every check.
  if (!(lr > 0.0F && std::isfinite(lr))) {
    return BadField("lr", "> 0 and finite", FormatValue(lr));
  }
  if (!(momentum >= 0.0F && momentum < 1.0F)) {
    return BadField("momentum", "in [0, 1)", FormatValue(momentum));
  }
  if (!(weight_decay >= 0.0F && std::isfinite(weight_decay))) {
    return BadField("weight_decay", ">= 0 and finite",
                    FormatValue(weight_decay));
  }
  if (warmup_steps < 0) {
    return BadField("warmup_steps", ">= 0", std::to_string(warmup_steps));
  }
  for (size_t i = 0; i < decay_steps.size(); ++i) {
    if (decay_steps[i] < 0 || (i > 0 && decay_steps[i] <= decay_steps[i - 1])) {
      std::string got;
      for (const int64_t milestone : decay_steps) {
        if (!got.empty()) got += ',';
        got += std::to_string(milestone);
      }
      return BadField("decay_steps", "strictly ascending and >= 0",
                      "[" + got + "]");
    }
  }
  if (!(decay_factor > 0.0F && decay_factor <= 1.0F)) {
    return BadField("decay_factor", "in (0, 1]", FormatValue(decay_factor));
  }
  return Status::Ok();
}

template <typename Scalar>
BasicSgd<Scalar>::BasicSgd(const SgdOptions& options, int64_t dim)
    : options_(options), velocity_(VectorType::Zero(dim)) {
  ANCHORAGE_CHECK(options.Validate().ok(), "invalid SgdOptions");
  ANCHORAGE_CHECK(dim >= 0, "negative dim");
}

float ScheduledLearningRate(const SgdOptions& options, int64_t step) {
  float lr = options.lr;
  if (step < options.warmup_steps) {
    lr *=
        static_cast<float>(step + 1) / static_cast<float>(options.warmup_steps);
  }
  for (const int64_t milestone : options.decay_steps) {
    if (step < milestone) break;
    lr *= options.decay_factor;
  }
  return lr;
}

template <typename Scalar>
void BasicSgd<Scalar>::Step(std::span<Scalar> params,
                            std::span<const Scalar> grad) {
  ANCHORAGE_CHECK(
      static_cast<Eigen::Index>(params.size()) == velocity_.size() &&
          static_cast<Eigen::Index>(grad.size()) == velocity_.size(),
      "params and grad must have the optimizer's size");
  Eigen::Map<VectorType> params_map(params.data(),
                                    static_cast<Eigen::Index>(params.size()));
  const Eigen::Map<const VectorType> grad_map(
      grad.data(), static_cast<Eigen::Index>(grad.size()));
  auto x = params_map.array();
  const auto g = grad_map.array();
  auto v = velocity_.array();
  const auto lr = static_cast<Scalar>(learning_rate());
  const auto mu = static_cast<Scalar>(options_.momentum);
  const auto wd = static_cast<Scalar>(options_.weight_decay);
  // d stays an expression, evaluated inside each pass: no temporary. Each
  // element of x is read before it is written, so nothing aliases.
  const auto apply = [&](const auto& d) {
    // Not mu * v + d when mu = 0: a non-finite v must not leak into plain SGD.
    if (mu == static_cast<Scalar>(0)) {
      v = d;
    } else {
      v = mu * v + d;
    }
    if (options_.nesterov) {
      x -= lr * (d + mu * v);
    } else {
      x -= lr * v;
    }
  };
  if (wd == static_cast<Scalar>(0)) {
    apply(g);
  } else {
    apply(g + wd * x);
  }
  ++step_;
}

template <typename Scalar>
void BasicSgd<Scalar>::ResetMomentum() {
  velocity_.setZero();
}

template class BasicSgd<float>;
template class BasicSgd<double>;

}  // namespace anchorage::optim
