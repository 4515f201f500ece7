#include "common/model/mlp_model.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

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

// Returns a float uniform in [-bound, bound) from 24 random bits.
float Uniform(std::mt19937_64& random, float bound) {
  const float unit = static_cast<float>(random() >> 40) * 0x1p-24F;
  return (2.0F * unit - 1.0F) * bound;
}

}  // namespace

MlpModel::MlpModel(int64_t input_dim, const std::vector<int64_t>& hidden_sizes,
                   int num_classes)
    : num_classes_(num_classes) {
  ANCHORAGE_CHECK(input_dim >= 1 && num_classes >= 2 && !hidden_sizes.empty(),
                  "mlp needs inputs, a hidden layer and two classes");
  widths_.push_back(input_dim);
  for (const int64_t hidden : hidden_sizes) {
    ANCHORAGE_CHECK(hidden >= 1, "hidden sizes must be positive");
    widths_.push_back(hidden);
  }
  widths_.push_back(num_classes);
  for (int layer = 0; layer < num_layers(); ++layer) {
    offsets_.push_back(dim_);
    dim_ += (widths_[layer] + 1) * widths_[layer + 1];
  }
  outputs_.resize(static_cast<size_t>(num_layers()));
  deltas_.resize(static_cast<size_t>(num_layers() - 1));
}

std::string MlpModel::name() const {
  std::string name = "mlp:";
  for (size_t i = 1; i + 1 < widths_.size(); ++i) {
    if (i > 1) name += ',';
    name += std::to_string(widths_[i]);
  }
  return name;
}

ConstRowMatrixMap MlpModel::Weights(std::span<const float> params,
                                    int layer) const {
  return {params.data() + offsets_[layer], widths_[layer + 1], widths_[layer]};
}

ConstVectorMap MlpModel::Bias(std::span<const float> params, int layer) const {
  return {params.data() + offsets_[layer] + widths_[layer] * widths_[layer + 1],
          widths_[layer + 1]};
}

void MlpModel::Initialize(uint64_t seed, std::span<float> params) const {
  ANCHORAGE_CHECK(static_cast<int64_t>(params.size()) == dim_,
                  "params must have dim() entries");
  std::mt19937_64 random(seed);
  for (int layer = 0; layer < num_layers(); ++layer) {
    const bool relu = layer + 1 < num_layers();
    const auto fan_in = static_cast<float>(widths_[layer]);
    const float bound = std::sqrt((relu ? 6.0F : 3.0F) / fan_in);
    float* weights = params.data() + offsets_[layer];
    const int64_t weight_count = widths_[layer] * widths_[layer + 1];
    for (int64_t i = 0; i < weight_count; ++i) {
      weights[i] = Uniform(random, bound);
    }
    std::fill(weights + weight_count,
              weights + weight_count + widths_[layer + 1], 0.0F);
  }
}

RowMatrixMap MlpModel::Forward(std::span<const float> params,
                               const ConstRowMatrixMap& x) {
  ANCHORAGE_CHECK(static_cast<int64_t>(params.size()) == dim_,
                  "params must have dim() entries");
  ANCHORAGE_CHECK(x.cols() == widths_.front(),
                  "x must have input_dim() columns");
  const Eigen::Index batch = x.rows();
  const float* input = x.data();
  for (int layer = 0; layer < num_layers(); ++layer) {
    RowMatrixMap output =
        ScratchRows(outputs_[layer], batch, widths_[layer + 1]);
    // H = X W^T + b; starting from the bias folds its addition into the
    // product's pass over H.
    output.rowwise() = Bias(params, layer).transpose();
    output.noalias() += ConstRowMatrixMap(input, batch, widths_[layer]) *
                        Weights(params, layer).transpose();
    if (layer + 1 < num_layers()) output = output.cwiseMax(0.0F);
    input = output.data();
  }
  return {outputs_.back().data(), batch, num_classes_};
}

float MlpModel::LossAndGradient(std::span<const float> params,
                                const RowMatrix& x,
                                std::span<const int32_t> labels,
                                std::span<float> grad) {
  const Eigen::Index batch = x.rows();
  ANCHORAGE_CHECK(batch >= 1, "empty batch");
  ANCHORAGE_CHECK(static_cast<int64_t>(grad.size()) == dim_,
                  "grad must have dim() entries");
  const ConstRowMatrixMap inputs = internal::RowsOf(x, 0, batch);
  RowMatrixMap logits = Forward(params, inputs);
  int64_t correct = 0;
  const float inv_batch = 1.0F / static_cast<float>(batch);
  // Turns the logits into d(mean loss)/d(logits).
  const double loss_sum =
      internal::SoftmaxCrossEntropy(logits, labels, inv_batch, &correct);

  float* delta_data = logits.data();
  for (int layer = num_layers() - 1; layer >= 0; --layer) {
    const Eigen::Index outputs = widths_[layer + 1];
    const Eigen::Index inputs_width = widths_[layer];
    const ConstRowMatrixMap layer_input =
        layer == 0 ? inputs
                   : ConstRowMatrixMap(outputs_[layer - 1].data(), batch,
                                       inputs_width);
    const RowMatrixMap delta(delta_data, batch, outputs);
    float* grad_layer = grad.data() + offsets_[layer];
    RowMatrixMap grad_weights(grad_layer, outputs, inputs_width);
    VectorMap grad_bias(grad_layer + grad_weights.size(), outputs);
    grad_weights.noalias() = delta.transpose() * layer_input;
    grad_bias.noalias() = delta.colwise().sum().transpose();
    if (layer == 0) break;
    // Back through W, then through the ReLU: its output is positive exactly
    // where its input was.
    RowMatrixMap previous =
        ScratchRows(deltas_[layer - 1], batch, inputs_width);
    previous.noalias() = delta * Weights(params, layer);
    float* previous_data = previous.data();
    const float* activation = layer_input.data();
    const Eigen::Index size = previous.size();
    for (Eigen::Index i = 0; i < size; ++i) {
      previous_data[i] = activation[i] > 0.0F ? previous_data[i] : 0.0F;
    }
    delta_data = previous_data;
  }
  return static_cast<float>(loss_sum / static_cast<double>(batch));
}

Evaluation MlpModel::Evaluate(std::span<const float> params, const RowMatrix& x,
                              std::span<const int32_t> labels) {
  return internal::EvaluateInBlocks(
      x, labels,
      [&](const ConstRowMatrixMap& block) { return Forward(params, block); });
}

}  // namespace anchorage::model
