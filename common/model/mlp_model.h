// MlpModel: a multi-layer perceptron with ReLU hidden layers and a softmax
// output, e.g. 784-256-128-10 for "mlp:256,128". Parameters follow model.h:
// for each layer from the input, W (outputs x inputs, row-major) then b.
//
// Not thread-safe: holds activation and gradient scratch buffers; use one
// instance per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/model/model.h"
#include "common/tensor/tensor.h"

namespace anchorage::model {

class MlpModel final : public Model {
 public:
  // Requires input_dim >= 1, at least one hidden size, every hidden size
  // >= 1 and num_classes >= 2 (MakeModel checks them).
  MlpModel(int64_t input_dim, const std::vector<int64_t>& hidden_sizes,
           int num_classes);

  int64_t dim() const override { return dim_; }
  int64_t input_dim() const override { return widths_.front(); }
  int num_classes() const override { return num_classes_; }
  // "mlp:" and the hidden sizes, e.g. "mlp:256,128".
  std::string name() const override;

  // Kaiming-uniform hidden layers (bound sqrt(6 / inputs)), LeCun-uniform
  // output layer (bound sqrt(3 / inputs)), zero biases; deterministic in
  // `seed` (mt19937_64, not a std:: distribution, so every platform agrees).
  void Initialize(uint64_t seed, std::span<float> params) const override;
  float LossAndGradient(std::span<const float> params, const RowMatrix& x,
                        std::span<const int32_t> labels,
                        std::span<float> grad) override;
  Evaluation Evaluate(std::span<const float> params, const RowMatrix& x,
                      std::span<const int32_t> labels) override;

 private:
  int num_layers() const { return static_cast<int>(widths_.size()) - 1; }
  // Views of layer `layer`'s weights and bias inside a flat vector.
  ConstRowMatrixMap Weights(std::span<const float> params, int layer) const;
  ConstVectorMap Bias(std::span<const float> params, int layer) const;
  // Runs the forward pass on the rows of `x`, keeping every layer's output
  // (post-ReLU for hidden layers) in outputs_; returns the logits.
  RowMatrixMap Forward(std::span<const float> params,
                       const ConstRowMatrixMap& x);

  int num_classes_;
  // Layer widths from the input: input_dim, hidden sizes..., num_classes.
  std::vector<int64_t> widths_;
  // Offset of each layer's weights in the flat vector; the bias follows.
  std::vector<int64_t> offsets_;
  int64_t dim_ = 0;
  // Scratch, grown to the largest batch seen and never shrunk, so
  // steady-state steps do not allocate. outputs_[l] is layer l's output;
  // deltas_[l] the loss gradient w.r.t. hidden layer l's pre-activation.
  std::vector<RowMatrix> outputs_;
  std::vector<RowMatrix> deltas_;
};

}  // namespace anchorage::model
