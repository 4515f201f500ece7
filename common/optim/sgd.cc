#include "common/optim/sgd.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "common/base/check.h"

namespace anchorage::optim {
namespace {

std::string Format(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

Status BadField(const char* field, const std::string& want,
                const std::string& got) {
  return Status::InvalidArgument(std::string("sgd ") + field + " must be " +
                                 want + ", got " + got);
}

}  // namespace

Status SgdOptions::Validate() const {
  // Written so that NaN fails every check.
  if (!(lr > 0.0F && std::isfinite(lr))) {
    return BadField("lr", "> 0 and finite", Format(lr));
  }
  if (!(momentum >= 0.0F && momentum < 1.0F)) {
    return BadField("momentum", "in [0, 1)", Format(momentum));
  }
  if (!(weight_decay >= 0.0F && std::isfinite(weight_decay))) {
    return BadField("weight_decay", ">= 0 and finite", Format(weight_decay));
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
    return BadField("decay_factor", "in (0, 1]", Format(decay_factor));
  }
  return Status::Ok();
}

Sgd::Sgd(const SgdOptions& options, int64_t dim)
    : options_(options), velocity_(Vector::Zero(dim)) {
  ANCHORAGE_CHECK(options.Validate().ok(), "invalid SgdOptions");
  ANCHORAGE_CHECK(dim >= 0, "negative dim");
}

float Sgd::learning_rate() const {
  float lr = options_.lr;
  if (step_ < options_.warmup_steps) {
    lr *= static_cast<float>(step_ + 1) /
          static_cast<float>(options_.warmup_steps);
  }
  for (const int64_t milestone : options_.decay_steps) {
    if (step_ < milestone) break;
    lr *= options_.decay_factor;
  }
  return lr;
}

void Sgd::Step(std::span<float> params, std::span<const float> grad) {
  ANCHORAGE_CHECK(
      static_cast<Eigen::Index>(params.size()) == velocity_.size() &&
          static_cast<Eigen::Index>(grad.size()) == velocity_.size(),
      "params and grad must have the optimizer's size");
  VectorMap params_map = AsVector(params);
  const ConstVectorMap grad_map = AsVector(grad);
  auto x = params_map.array();
  const auto g = grad_map.array();
  auto v = velocity_.array();
  const float lr = learning_rate();
  const float mu = options_.momentum;
  const float wd = options_.weight_decay;
  // d stays an expression, evaluated inside each pass: no temporary. Each
  // element of x is read before it is written, so nothing aliases.
  const auto apply = [&](const auto& d) {
    // Not mu * v + d when mu = 0: a non-finite v must not leak into plain SGD.
    if (mu == 0.0F) {
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
  if (wd == 0.0F) {
    apply(g);
  } else {
    apply(g + wd * x);
  }
  ++step_;
}

void Sgd::ResetMomentum() {
  velocity_.setZero();
}

}  // namespace anchorage::optim
