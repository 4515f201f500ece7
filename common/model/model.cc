#include "common/model/model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/base/check.h"
#include "common/model/mlp_model.h"
#include "common/model/softmax_model.h"

namespace anchorage::model {
namespace {

constexpr std::string_view kSoftmaxSpec = "softmax";
constexpr std::string_view kMlpPrefix = "mlp:";
// Far above any layer we train; keeps dim() and buffer sizes from
// overflowing on a typo.
constexpr int64_t kMaxHiddenSize = int64_t{1} << 20;

struct ParsedSpec {
  bool mlp = false;
  std::vector<int64_t> hidden;
};

Status SpecError(const std::string& spec, std::string_view why) {
  return Status::InvalidArgument("bad model spec \"" + spec +
                                 "\": " + std::string(why) +
                                 " (want \"softmax\" or \"mlp:H1,H2,...\")");
}

// Parses `spec` into `parsed`; returns kInvalidArgument naming the spec.
Status ParseSpec(const std::string& spec, ParsedSpec* parsed) {
  if (spec == kSoftmaxSpec) {
    parsed->mlp = false;
    return Status::Ok();
  }
  if (!spec.starts_with(kMlpPrefix)) {
    return SpecError(spec, "unknown model");
  }
  parsed->mlp = true;
  const std::string_view whole = spec;
  std::string_view rest = whole.substr(kMlpPrefix.size());
  if (rest.empty()) return SpecError(spec, "no hidden layer sizes");
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view token = rest.substr(0, comma);
    int64_t size = 0;
    const auto [end, error] =
        std::from_chars(token.data(), token.data() + token.size(), size);
    if (token.empty() || error != std::errc() ||
        end != token.data() + token.size()) {
      return SpecError(
          spec, "hidden size \"" + std::string(token) + "\" is not an integer");
    }
    if (size < 1 || size > kMaxHiddenSize) {
      return SpecError(spec, "hidden size " + std::to_string(size) +
                                 " is not in [1, " +
                                 std::to_string(kMaxHiddenSize) + "]");
    }
    parsed->hidden.push_back(size);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Model>> MakeModel(const std::string& spec,
                                           int64_t input_dim, int num_classes) {
  ParsedSpec parsed;
  Status status = ParseSpec(spec, &parsed);
  if (!status.ok()) return status;
  if (input_dim < 1 || input_dim > kMaxHiddenSize) {
    return Status::InvalidArgument(
        "model \"" + spec + "\": input dimension must be in [1, " +
        std::to_string(kMaxHiddenSize) + "], got " + std::to_string(input_dim));
  }
  if (num_classes < 2 || num_classes > kMaxHiddenSize) {
    return Status::InvalidArgument("model \"" + spec +
                                   "\": number of classes must be in [2, " +
                                   std::to_string(kMaxHiddenSize) + "], got " +
                                   std::to_string(num_classes));
  }
  if (!parsed.mlp) {
    return std::unique_ptr<Model>(
        std::make_unique<SoftmaxModel>(input_dim, num_classes));
  }
  return std::unique_ptr<Model>(
      std::make_unique<MlpModel>(input_dim, parsed.hidden, num_classes));
}

Status ValidateModelSpec(const std::string& spec) {
  ParsedSpec parsed;
  return ParseSpec(spec, &parsed);
}

namespace internal {

double SoftmaxCrossEntropy(RowMatrixMap logits, std::span<const int32_t> labels,
                           float gradient_scale, int64_t* correct) {
  const Eigen::Index classes = logits.cols();
  ANCHORAGE_CHECK(static_cast<Eigen::Index>(labels.size()) == logits.rows(),
                  "one label per row of logits");
  double loss_sum = 0;
  int64_t hits = 0;
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const int32_t label = labels[static_cast<size_t>(r)];
    ANCHORAGE_CHECK(label >= 0 && label < classes, "label out of range");
    auto row = logits.row(r).array();
    Eigen::Index argmax = 0;
    const float max = row.maxCoeff(&argmax);
    hits += argmax == label ? 1 : 0;
    const float label_logit = row(label);
    float sum = 0;
    if (gradient_scale != 0.0F) {
      // Subtracting the row max keeps exp() from overflowing.
      row = (row - max).exp();
      sum = row.sum();
      row *= gradient_scale / sum;
      row(label) -= gradient_scale;
    } else {
      sum = (row - max).exp().sum();
    }
    loss_sum += static_cast<double>(std::log(sum) + (max - label_logit));
  }
  *correct += hits;
  return loss_sum;
}

ConstRowMatrixMap RowsOf(const RowMatrix& x, Eigen::Index begin,
                         Eigen::Index rows) {
  return {x.data() + begin * x.cols(), rows, x.cols()};
}

Evaluation EvaluateInBlocks(
    const RowMatrix& x, std::span<const int32_t> labels,
    const std::function<RowMatrixMap(ConstRowMatrixMap)>& forward) {
  constexpr Eigen::Index kBlockRows = 1024;
  ANCHORAGE_CHECK(static_cast<Eigen::Index>(labels.size()) == x.rows(),
                  "one label per row of x");
  double loss_sum = 0;
  int64_t correct = 0;
  for (Eigen::Index begin = 0; begin < x.rows(); begin += kBlockRows) {
    const Eigen::Index rows = std::min(kBlockRows, x.rows() - begin);
    loss_sum += SoftmaxCrossEntropy(
        forward(RowsOf(x, begin, rows)),
        labels.subspan(static_cast<size_t>(begin), static_cast<size_t>(rows)),
        0.0F, &correct);
  }
  Evaluation evaluation;
  evaluation.examples = x.rows();
  if (evaluation.examples > 0) {
    const auto examples = static_cast<double>(evaluation.examples);
    evaluation.loss = loss_sum / examples;
    evaluation.accuracy = static_cast<double>(correct) / examples;
  }
  return evaluation;
}

}  // namespace internal

}  // namespace anchorage::model
