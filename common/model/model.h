// Model: a classifier over one flat float32 parameter vector, with the loss,
// gradient and evaluation that workers run. Implementations are
// SoftmaxModel (multinomial logistic regression) and MlpModel (ReLU
// multi-layer perceptron); MakeModel builds one from a spec string.
//
// Parameter layout (a contract: files saved with it are loaded by numpy):
// layer by layer from the input, each layer's weight matrix row-major with
// shape (outputs, inputs) followed by its bias (outputs).
//
// Thread-safety: a Model is not thread-safe (it holds scratch buffers); use
// one instance per thread. MakeModel and ValidateModelSpec are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/base/status.h"
#include "common/tensor/tensor.h"

namespace anchorage::model {

// Mean loss and accuracy over `examples` rows. All zero when there are no
// rows.
struct Evaluation {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
};

// A classifier over flat float32 parameters, laid out as the file comment
// says. Inputs are the rows of a (batch x input_dim()) matrix; labels are
// class indices in [0, num_classes()). Passing spans or matrices of the wrong
// size, or a label out of range, is a programming error (ANCHORAGE_CHECK):
// callers validate data when they load it.
//
// Not thread-safe: holds scratch buffers; use one instance per thread.
class Model {
 public:
  virtual ~Model() = default;

  // Number of parameters.
  virtual int64_t dim() const = 0;
  virtual int64_t input_dim() const = 0;
  virtual int num_classes() const = 0;
  // The canonical spec: "softmax" or "mlp:256,128".
  virtual std::string name() const = 0;

  // Fills `params` (size dim()) with the initial model for `seed`: the same
  // seed gives the same parameters on every machine. ReLU layers are
  // Kaiming-uniform, the output layer of an MLP LeCun-uniform, biases zero;
  // the softmax model starts at zero (its loss is convex).
  virtual void Initialize(uint64_t seed, std::span<float> params) const = 0;

  // Returns the mean softmax cross-entropy over the rows of `x` (batch x
  // input_dim(), batch >= 1) with `labels` (size batch), and overwrites
  // `grad` (size dim()) with the gradient of that mean loss with respect to
  // `params`. No weight decay here: the optimizer adds it.
  virtual float LossAndGradient(std::span<const float> params,
                                const RowMatrix& x,
                                std::span<const int32_t> labels,
                                std::span<float> grad) = 0;

  // Returns the mean loss and the accuracy (argmax of the logits, first
  // index on ties, equal to the label) over all rows of `x`, computed in
  // chunks of at most 1024 rows to bound memory. `x` may have zero rows.
  virtual Evaluation Evaluate(std::span<const float> params, const RowMatrix& x,
                              std::span<const int32_t> labels) = 0;
};

// Builds the model named by `spec`: "softmax" or "mlp:H1,H2,..." (one or
// more positive hidden sizes, ReLU activations) for inputs of `input_dim`
// features and `num_classes` classes. Returns kInvalidArgument naming the
// spec when it is malformed, and naming the value when input_dim < 1 or
// num_classes < 2.
StatusOr<std::unique_ptr<Model>> MakeModel(const std::string& spec,
                                           int64_t input_dim, int num_classes);

// Returns OK when MakeModel would accept `spec`, else kInvalidArgument naming
// it. For validating configuration before the data (and so the input
// dimension) is known.
Status ValidateModelSpec(const std::string& spec);

namespace internal {

// Shared by the Model implementations; not for other callers.
//
// Returns the sum over rows of the softmax cross-entropy of `logits` (rows x
// classes) against `labels` (size rows), and adds to `*correct` the number of
// rows whose argmax (first on ties) equals the label. When `gradient_scale`
// is not zero, replaces `logits` by gradient_scale * (softmax - one_hot):
// the gradient of gradient_scale * (sum of row losses) w.r.t. the logits.
double SoftmaxCrossEntropy(RowMatrixMap logits, std::span<const int32_t> labels,
                           float gradient_scale, int64_t* correct);

// Views the rows [begin, begin + rows) of `x` without copying. A Map also
// keeps us from assuming the caller's allocation alignment.
ConstRowMatrixMap RowsOf(const RowMatrix& x, Eigen::Index begin,
                         Eigen::Index rows);

// Model::Evaluate for a model whose `forward` maps a block of rows to its
// logits: mean loss and accuracy over every row of `x`, in blocks of at
// most 1024 rows to bound memory.
Evaluation EvaluateInBlocks(
    const RowMatrix& x, std::span<const int32_t> labels,
    const std::function<RowMatrixMap(ConstRowMatrixMap)>& forward);

}  // namespace internal

}  // namespace anchorage::model
