// SoftmaxModel: multinomial logistic regression, logits = W x + b with W of
// shape (num_classes, input_dim). Parameters are W row-major then b, as
// model.h lays out every model.
//
// Not thread-safe: holds a scratch buffer; use one instance per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/model/model.h"
#include "common/tensor/tensor.h"

namespace anchorage::model {

class SoftmaxModel final : public Model {
 public:
  // Requires input_dim >= 1 and num_classes >= 2 (MakeModel checks them).
  SoftmaxModel(int64_t input_dim, int num_classes);

  int64_t dim() const override;
  int64_t input_dim() const override { return input_dim_; }
  int num_classes() const override { return num_classes_; }
  std::string name() const override { return "softmax"; }

  // Sets every parameter to zero whatever the seed: the loss is convex.
  void Initialize(uint64_t seed, std::span<float> params) const override;
  float LossAndGradient(std::span<const float> params, const RowMatrix& x,
                        std::span<const int32_t> labels,
                        std::span<float> grad) override;
  Evaluation Evaluate(std::span<const float> params, const RowMatrix& x,
                      std::span<const int32_t> labels) override;

 private:
  // Computes the logits of the rows of `x` into logits_ and returns a view.
  RowMatrixMap Forward(std::span<const float> params,
                       const ConstRowMatrixMap& x);

  int64_t input_dim_;
  int num_classes_;
  // Scratch: grows to the largest batch seen, never shrinks, so steady-state
  // steps do not allocate.
  RowMatrix logits_;
};

}  // namespace anchorage::model
