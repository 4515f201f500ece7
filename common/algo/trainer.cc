#include "common/algo/trainer.h"

#include <algorithm>
#include <utility>

namespace anchorage::algo {

Trainer::Trainer(std::unique_ptr<model::Model> model,
                 const data::Dataset* dataset, std::vector<int64_t> shard,
                 int batch_size, const optim::SgdOptions& sgd,
                 std::span<const float> initial, uint64_t seed)
    : model_(std::move(model)),
      sampler_(dataset, std::move(shard), batch_size, seed),
      sgd_(sgd, static_cast<int64_t>(initial.size())),
      params_(initial.begin(), initial.end()),
      grad_(initial.size()) {}

double Trainer::Step() {
  sampler_.Next(&batch_x_, &batch_labels_);
  const float loss =
      model_->LossAndGradient(params_, batch_x_, batch_labels_, grad_);
  sgd_.Step(params_, grad_);
  return loss;
}

double Trainer::AccumulateGradient(std::span<float> sum) {
  sampler_.Next(&batch_x_, &batch_labels_);
  const float loss =
      model_->LossAndGradient(params_, batch_x_, batch_labels_, grad_);
  AsVector(sum) += AsVector(std::span<const float>(grad_));
  return loss;
}

void Trainer::Pull(std::span<const float> anchor, float alpha) {
  AsVector(std::span<float>(params_)) =
      (1.0F - alpha) * AsVector(std::span<const float>(params_)) +
      alpha * AsVector(anchor);
}

void Trainer::Adopt(std::span<const float> anchor) {
  std::copy(anchor.begin(), anchor.end(), params_.begin());
}

}  // namespace anchorage::algo
