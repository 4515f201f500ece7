#include "common/model/softmax_model.h"

#include <algorithm>

#include "common/base/check.h"

namespace anchorage::model {
namespace {

// Returns a (rows x cols) view of `buffer`, growing it only when too small.
RowMatrixMap ScratchRows(RowMatrix& buffer, Eigen::Index rows,
                         Eigen::Index cols) {
  if (buffer.rows() < rows || buffer.cols() != cols) {
    buffer.resize(std::max(rows, buffer.rows()), cols);
  }
  return {buffer.data(), rows, cols};
}

}  // namespace

SoftmaxModel::SoftmaxModel(int64_t input_dim, int num_classes)
    : input_dim_(input_dim), num_classes_(num_classes) {
  ANCHORAGE_CHECK(input_dim >= 1 && num_classes >= 2,
                  "softmax model needs inputs and two classes");
}

int64_t SoftmaxModel::dim() const {
  return (input_dim_ + 1) * num_classes_;
}

void SoftmaxModel::Initialize(uint64_t /*seed*/,
                              std::span<float> params) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(params.size()) == dim(),
                  "params must have dim() entries");
  std::fill(params.begin(), params.end(), 0.0F);
}

RowMatrixMap SoftmaxModel::Forward(std::span<const float> params,
                                   const ConstRowMatrixMap& x) {
  ANCHORAGE_CHECK(static_cast<int64_t>(params.size()) == dim(),
                  "params must have dim() entries");
  ANCHORAGE_CHECK(x.cols() == input_dim_, "x must have input_dim() columns");
  const ConstRowMatrixMap weights(params.data(), num_classes_, input_dim_);
  const ConstVectorMap bias(params.data() + weights.size(), num_classes_);
  RowMatrixMap logits = ScratchRows(logits_, x.rows(), num_classes_);
  // Starting from the bias folds its addition into the product's pass.
  logits.rowwise() = bias.transpose();
  logits.noalias() += x * weights.transpose();
  return logits;
}

float SoftmaxModel::LossAndGradient(std::span<const float> params,
                                    const RowMatrix& x,
                                    std::span<const int32_t> labels,
                                    std::span<float> grad) {
  const Eigen::Index batch = x.rows();
  ANCHORAGE_CHECK(batch >= 1, "empty batch");
  ANCHORAGE_CHECK(static_cast<int64_t>(grad.size()) == dim(),
                  "grad must have dim() entries");
  const ConstRowMatrixMap inputs = internal::RowsOf(x, 0, batch);
  RowMatrixMap logits = Forward(params, inputs);
  int64_t correct = 0;
  const float inv_batch = 1.0F / static_cast<float>(batch);
  // Turns logits into d(mean loss)/d(logits).
  const double loss_sum =
      internal::SoftmaxCrossEntropy(logits, labels, inv_batch, &correct);

  RowMatrixMap grad_weights(grad.data(), num_classes_, input_dim_);
  VectorMap grad_bias(grad.data() + grad_weights.size(), num_classes_);
  grad_weights.noalias() = logits.transpose() * inputs;
  grad_bias.noalias() = logits.colwise().sum().transpose();
  return static_cast<float>(loss_sum / static_cast<double>(batch));
}

Evaluation SoftmaxModel::Evaluate(std::span<const float> params,
                                  const RowMatrix& x,
                                  std::span<const int32_t> labels) {
  return internal::EvaluateInBlocks(
      x, labels,
      [&](const ConstRowMatrixMap& block) { return Forward(params, block); });
}

}  // namespace anchorage::model
