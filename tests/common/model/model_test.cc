#include "common/model/model.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/model/mlp_model.h"
#include "common/model/softmax_model.h"
#include "common/optim/sgd.h"
#include "common/tensor/tensor.h"

namespace anchorage::model {
namespace {

constexpr uint64_t kSeed = 20240611;

std::unique_ptr<Model> MustMakeModel(const std::string& spec, int64_t input_dim,
                                     int num_classes) {
  StatusOr<std::unique_ptr<Model>> model =
      MakeModel(spec, input_dim, num_classes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

RowMatrix RandomMatrix(Eigen::Index rows, Eigen::Index cols,
                       std::mt19937_64& random) {
  std::normal_distribution<float> normal;
  RowMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = normal(random);
  }
  return m;
}

std::vector<int32_t> RandomLabels(size_t count, int num_classes,
                                  std::mt19937_64& random) {
  std::uniform_int_distribution<int32_t> label(0, num_classes - 1);
  std::vector<int32_t> labels(count);
  for (int32_t& l : labels) {
    l = label(random);
  }
  return labels;
}

std::vector<float> RandomParams(const Model& model, std::mt19937_64& random) {
  std::normal_distribution<float> normal(0.0F, 0.5F);
  std::vector<float> params(static_cast<size_t>(model.dim()));
  for (float& p : params) {
    p = normal(random);
  }
  return params;
}

float Loss(Model& model, const std::vector<float>& params, const RowMatrix& x,
           const std::vector<int32_t>& labels) {
  std::vector<float> unused(params.size());
  return model.LossAndGradient(params, x, labels, unused);
}

// A model spec with the sizes used by the contract tests and a test name.
struct ModelCase {
  std::string spec;
  std::string test_name;
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const ModelCase& model_case, std::ostream* os) {
  *os << model_case.spec;
}

class ModelContractTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  static constexpr int64_t kInputDim = 5;
  static constexpr int kNumClasses = 3;
  std::unique_ptr<Model> model_ =
      MustMakeModel(GetParam().spec, kInputDim, kNumClasses);
};

// Compares the analytic directional derivative grad . u with the central
// difference (L(p + h u) - L(p - h u)) / 2h, which is robust in float where
// per-coordinate differences are not. The tolerance is relative to |grad|,
// which bounds |grad . u| for unit u.
TEST_P(ModelContractTest, GradientMatchesFiniteDifferences) {
  std::mt19937_64 random(kSeed);
  const RowMatrix x = RandomMatrix(16, kInputDim, random);
  const std::vector<int32_t> labels = RandomLabels(16, kNumClasses, random);
  const std::vector<float> params = RandomParams(*model_, random);
  std::vector<float> grad(params.size());
  model_->LossAndGradient(params, x, labels, grad);
  const Vector g = AsVector(std::span<const float>(grad));
  ASSERT_GT(g.norm(), 1e-3F);

  std::vector<Vector> directions = {g.normalized()};
  for (int i = 0; i < 8; ++i) {
    directions.push_back(RandomMatrix(g.size(), 1, random).col(0).normalized());
  }
  constexpr float kStep = 3e-3F;
  for (size_t i = 0; i < directions.size(); ++i) {
    const Vector& u = directions[i];
    std::vector<float> plus = params;
    std::vector<float> minus = params;
    AsVector(std::span<float>(plus)) += kStep * u;
    AsVector(std::span<float>(minus)) -= kStep * u;
    const double numeric =
        (static_cast<double>(Loss(*model_, plus, x, labels)) -
         Loss(*model_, minus, x, labels)) /
        (2.0 * kStep);
    const double analytic = g.dot(u);
    EXPECT_NEAR(numeric, analytic, 5e-3 * g.norm())
        << "direction " << i << " (0 is the gradient itself)";
  }
}

TEST_P(ModelContractTest, OverwritesGradient) {
  std::mt19937_64 random(kSeed);
  const RowMatrix x = RandomMatrix(8, kInputDim, random);
  const std::vector<int32_t> labels = RandomLabels(8, kNumClasses, random);
  const std::vector<float> params = RandomParams(*model_, random);
  std::vector<float> fresh(params.size(), 0.0F);
  std::vector<float> dirty(params.size(), std::nanf(""));

  const float loss_fresh = model_->LossAndGradient(params, x, labels, fresh);
  const float loss_dirty = model_->LossAndGradient(params, x, labels, dirty);

  EXPECT_EQ(loss_fresh, loss_dirty);
  EXPECT_EQ(fresh, dirty);
}

TEST_P(ModelContractTest, BatchSizeChangesGiveConsistentResults) {
  std::mt19937_64 random(kSeed);
  const RowMatrix big = RandomMatrix(32, kInputDim, random);
  const std::vector<int32_t> big_labels = RandomLabels(32, kNumClasses, random);
  const RowMatrix small = big.topRows(4);
  const std::vector<int32_t> small_labels(big_labels.begin(),
                                          big_labels.begin() + 4);
  const std::vector<float> params = RandomParams(*model_, random);
  std::vector<float> before(params.size());
  std::vector<float> after(params.size());
  std::vector<float> unused(params.size());

  const float loss_before =
      model_->LossAndGradient(params, small, small_labels, before);
  model_->LossAndGradient(params, big, big_labels, unused);
  const float loss_after =
      model_->LossAndGradient(params, small, small_labels, after);

  EXPECT_EQ(loss_before, loss_after);
  EXPECT_EQ(before, after);
}

// Evaluate runs in chunks of at most 1024 rows; its mean loss must equal the
// loss over the whole set as one batch.
TEST_P(ModelContractTest, EvaluateMatchesLossOverManyChunks) {
  std::mt19937_64 random(kSeed);
  const RowMatrix x = RandomMatrix(2500, kInputDim, random);
  const std::vector<int32_t> labels = RandomLabels(2500, kNumClasses, random);
  const std::vector<float> params = RandomParams(*model_, random);

  const Evaluation evaluation = model_->Evaluate(params, x, labels);

  EXPECT_EQ(evaluation.examples, 2500);
  EXPECT_NEAR(evaluation.loss, Loss(*model_, params, x, labels), 1e-4);
  EXPECT_GE(evaluation.accuracy, 0.0);
  EXPECT_LE(evaluation.accuracy, 1.0);
}

TEST_P(ModelContractTest, EvaluateOfNoRowsIsZero) {
  const std::vector<float> params(static_cast<size_t>(model_->dim()), 0.0F);
  const RowMatrix x(0, kInputDim);

  const Evaluation evaluation = model_->Evaluate(params, x, {});

  EXPECT_EQ(evaluation.examples, 0);
  EXPECT_EQ(evaluation.loss, 0.0);
  EXPECT_EQ(evaluation.accuracy, 0.0);
}

TEST_P(ModelContractTest, InitializeIsDeterministicWithZeroBiases) {
  std::vector<float> first(static_cast<size_t>(model_->dim()), 7.0F);
  std::vector<float> again(first.size(), -7.0F);

  model_->Initialize(kSeed, first);
  model_->Initialize(kSeed, again);

  EXPECT_EQ(first, again);
  for (const float p : first) {
    EXPECT_TRUE(std::isfinite(p));
  }
  // The output layer's bias ends the vector.
  for (size_t i = first.size() - kNumClasses; i < first.size(); ++i) {
    EXPECT_EQ(first[i], 0.0F) << i;
  }
}

TEST_P(ModelContractTest, ReportsSizesAndCanonicalName) {
  EXPECT_EQ(model_->input_dim(), kInputDim);
  EXPECT_EQ(model_->num_classes(), kNumClasses);
  EXPECT_EQ(model_->name(), GetParam().spec);
}

INSTANTIATE_TEST_SUITE_P(
    AllModels, ModelContractTest,
    ::testing::Values(ModelCase{"softmax", "Softmax"},
                      ModelCase{"mlp:4", "MlpOneHidden"},
                      ModelCase{"mlp:4,3", "MlpTwoHidden"}),
    [](const ::testing::TestParamInfo<ModelCase>& case_info) {
      return case_info.param.test_name;
    });

TEST(MakeModelTest, ComputesDimFromLayout) {
  EXPECT_EQ(MustMakeModel("softmax", 5, 3)->dim(), 3 * 5 + 3);
  EXPECT_EQ(MustMakeModel("mlp:4,3", 5, 3)->dim(),
            (4 * 5 + 4) + (3 * 4 + 3) + (3 * 3 + 3));
  EXPECT_EQ(MustMakeModel("mlp:256,128", 784, 10)->dim(),
            (256 * 784 + 256) + (128 * 256 + 128) + (10 * 128 + 10));
}

TEST(MakeModelTest, RejectsBadSpecsNamingThem) {
  for (const std::string spec :
       {"mlp:", "mlp:0", "mlp:a", "cnn", "mlp:4,", "mlp:,4", "mlp:-3", "mlp:4x",
        "mlp:99999999999999999999", "Softmax", ""}) {
    const StatusOr<std::unique_ptr<Model>> model = MakeModel(spec, 5, 3);
    ASSERT_FALSE(model.ok()) << spec;
    EXPECT_EQ(model.status().code(), Status::Code::kInvalidArgument) << spec;
    EXPECT_NE(model.status().message().find("\"" + spec + "\""),
              std::string::npos)
        << model.status().message();
    EXPECT_EQ(ValidateModelSpec(spec).code(), Status::Code::kInvalidArgument)
        << spec;
  }
}

TEST(MakeModelTest, AcceptsGoodSpecs) {
  EXPECT_TRUE(ValidateModelSpec("softmax").ok());
  EXPECT_TRUE(ValidateModelSpec("mlp:256,128").ok());
  EXPECT_TRUE(ValidateModelSpec("mlp:1").ok());
  EXPECT_EQ(MustMakeModel("mlp:256,128", 784, 10)->name(), "mlp:256,128");
}

TEST(MakeModelTest, RejectsBadDimensions) {
  EXPECT_EQ(MakeModel("softmax", 0, 3).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(MakeModel("mlp:4", 5, 1).status().code(),
            Status::Code::kInvalidArgument);
}

// Loss of one row with logits z and label y: log(sum_j exp z_j) - z_y.
double RowLoss(const std::vector<double>& logits, int label) {
  double sum = 0;
  for (const double z : logits) {
    sum += std::exp(z);
  }
  return std::log(sum) - logits[static_cast<size_t>(label)];
}

TEST(SoftmaxModelTest, WeightsAreRowMajorClassByInput) {
  SoftmaxModel model(5, 3);
  std::vector<float> params(static_cast<size_t>(model.dim()), 0.0F);
  // W[class 1][input 3] = 1: the logits become (0, x_3, 0).
  params[1 * 5 + 3] = 1.0F;
  RowMatrix x(1, 5);
  x << 0.5F, -1.0F, 2.0F, 1.5F, 3.0F;
  const std::vector<int32_t> labels = {1};

  const double loss = Loss(model, params, x, labels);

  EXPECT_NEAR(loss, RowLoss({0.0, 1.5, 0.0}, 1), 1e-6);
  const Evaluation evaluation = model.Evaluate(params, x, labels);
  EXPECT_EQ(evaluation.accuracy, 1.0);
}

TEST(SoftmaxModelTest, BiasFollowsWeights) {
  SoftmaxModel model(5, 3);
  std::vector<float> params(static_cast<size_t>(model.dim()), 0.0F);
  params[3 * 5 + 2] = 2.0F;  // b[2]
  const RowMatrix x = RowMatrix::Ones(1, 5);
  const std::vector<int32_t> labels = {0};

  std::vector<float> grad(params.size());
  const double loss = model.LossAndGradient(params, x, labels, grad);

  EXPECT_NEAR(loss, RowLoss({0.0, 0.0, 2.0}, 0), 1e-6);
  // d loss / d b[c] = softmax_c - [c == label].
  const double denominator = 2.0 + std::exp(2.0);
  EXPECT_NEAR(grad[15], 1.0 / denominator - 1.0, 1e-6);
  EXPECT_NEAR(grad[17], std::exp(2.0) / denominator, 1e-6);
}

TEST(SoftmaxModelTest, ZeroModelLossIsLogNumClasses) {
  std::mt19937_64 random(kSeed);
  SoftmaxModel model(5, 7);
  std::vector<float> params(static_cast<size_t>(model.dim()), 1.0F);
  model.Initialize(kSeed, params);
  const RowMatrix x = RandomMatrix(100, 5, random);
  const std::vector<int32_t> labels = RandomLabels(100, 7, random);

  const Evaluation evaluation = model.Evaluate(params, x, labels);

  EXPECT_NEAR(evaluation.loss, std::log(7.0), 1e-6);
  EXPECT_EQ(evaluation.examples, 100);
}

TEST(SoftmaxModelTest, PerfectClassifierHasAccuracyOne) {
  // x = one-hot of the label; W = 10 I: the label's logit wins by 10.
  SoftmaxModel model(3, 3);
  std::vector<float> params(static_cast<size_t>(model.dim()), 0.0F);
  for (int c = 0; c < 3; ++c) {
    params[static_cast<size_t>(c) * 4] = 10.0F;  // row c, column c
  }
  const int rows = 1500;  // more than one evaluation chunk
  RowMatrix x = RowMatrix::Zero(rows, 3);
  std::vector<int32_t> labels(rows);
  for (int r = 0; r < rows; ++r) {
    labels[static_cast<size_t>(r)] = r % 3;
    x(r, r % 3) = 1.0F;
  }

  const Evaluation evaluation = model.Evaluate(params, x, labels);

  EXPECT_EQ(evaluation.accuracy, 1.0);
  EXPECT_NEAR(evaluation.loss, RowLoss({10.0, 0.0, 0.0}, 0), 1e-6);
}

TEST(SoftmaxModelTest, StableForHugeLogits) {
  SoftmaxModel model(1, 2);
  const std::vector<float> params = {1.0F, -1.0F, 0.0F, 0.0F};
  RowMatrix x(1, 1);
  x << 1000.0F;
  const std::vector<int32_t> labels = {1};
  std::vector<float> grad(params.size());

  const float loss = model.LossAndGradient(params, x, labels, grad);

  EXPECT_NEAR(loss, 2000.0F, 1e-2F);
  for (const float g : grad) {
    EXPECT_TRUE(std::isfinite(g));
  }
}

// Three linearly separable classes in 10 dimensions: unit Gaussian noise
// around centres 4 apart along different axes.
void MakeBlobs(int rows, std::mt19937_64& random, RowMatrix* x,
               std::vector<int32_t>* labels) {
  constexpr int kDim = 10;
  constexpr int kClasses = 3;
  std::normal_distribution<float> noise(0.0F, 1.0F);
  *x = RowMatrix(rows, kDim);
  labels->resize(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    const int label = r % kClasses;
    (*labels)[static_cast<size_t>(r)] = label;
    for (int i = 0; i < kDim; ++i) {
      (*x)(r, i) = noise(random) + (i == label ? 4.0F : 0.0F);
    }
  }
}

// Trains with mini-batches of 32 and returns the held-out evaluation.
Evaluation Train(Model& model, const RowMatrix& x,
                 const std::vector<int32_t>& labels, const RowMatrix& test_x,
                 const std::vector<int32_t>& test_labels, int epochs,
                 const optim::SgdOptions& options) {
  std::vector<float> params(static_cast<size_t>(model.dim()));
  std::vector<float> grad(params.size());
  model.Initialize(kSeed, params);
  optim::Sgd sgd(options, model.dim());
  constexpr Eigen::Index kBatch = 32;
  RowMatrix batch(kBatch, x.cols());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (Eigen::Index begin = 0; begin + kBatch <= x.rows(); begin += kBatch) {
      batch = x.middleRows(begin, kBatch);
      model.LossAndGradient(params, batch,
                            std::span<const int32_t>(labels).subspan(
                                static_cast<size_t>(begin), kBatch),
                            grad);
      sgd.Step(params, grad);
    }
  }
  return model.Evaluate(params, test_x, test_labels);
}

TEST(SoftmaxModelTest, TrainsToHighAccuracyOnSeparableData) {
  std::mt19937_64 random(kSeed);
  RowMatrix x;
  RowMatrix test_x;
  std::vector<int32_t> labels;
  std::vector<int32_t> test_labels;
  MakeBlobs(960, random, &x, &labels);
  MakeBlobs(600, random, &test_x, &test_labels);
  SoftmaxModel model(10, 3);
  const double initial_loss = std::log(3.0);

  optim::SgdOptions options;
  options.lr = 0.1F;
  const Evaluation evaluation =
      Train(model, x, labels, test_x, test_labels, 3, options);

  EXPECT_GT(evaluation.accuracy, 0.9);
  EXPECT_LT(evaluation.loss, initial_loss / 2);
}

// XOR of the signs of two coordinates: no linear classifier beats chance by
// much, a one-hidden-layer MLP does.
void MakeXor(int rows, std::mt19937_64& random, RowMatrix* x,
             std::vector<int32_t>* labels) {
  std::uniform_real_distribution<float> coordinate(-1.0F, 1.0F);
  *x = RowMatrix(rows, 2);
  labels->resize(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    (*x)(r, 0) = coordinate(random);
    (*x)(r, 1) = coordinate(random);
    (*labels)[static_cast<size_t>(r)] = ((*x)(r, 0) > 0) != ((*x)(r, 1) > 0);
  }
}

TEST(MlpModelTest, LearnsXorWhereSoftmaxCannot) {
  std::mt19937_64 random(kSeed);
  RowMatrix x;
  RowMatrix test_x;
  std::vector<int32_t> labels;
  std::vector<int32_t> test_labels;
  MakeXor(2048, random, &x, &labels);
  MakeXor(1000, random, &test_x, &test_labels);
  optim::SgdOptions options;
  options.lr = 0.1F;
  options.momentum = 0.9F;

  MlpModel mlp(2, {32}, 2);
  SoftmaxModel softmax(2, 2);
  const Evaluation mlp_result =
      Train(mlp, x, labels, test_x, test_labels, 20, options);
  const Evaluation softmax_result =
      Train(softmax, x, labels, test_x, test_labels, 20, options);

  EXPECT_GT(mlp_result.accuracy, 0.9);
  EXPECT_LT(softmax_result.accuracy, 0.75);
}

TEST(MlpModelTest, LayoutIsWeightsThenBiasPerLayer) {
  // 2-2-2: W1 = I, b1 = (0, -1), W2 = [[1, 0], [0, 2]], b2 = (0.5, 0).
  MlpModel model(2, {2}, 2);
  ASSERT_EQ(model.dim(), 12);
  const std::vector<float> params = {1, 0, 0, 1, 0,   -1,  // layer 1
                                     1, 0, 0, 2, 0.5, 0};  // layer 2
  RowMatrix x(1, 2);
  x << 3.0F, 4.0F;
  const std::vector<int32_t> labels = {0};

  // h = relu(x + b1) = (3, 3); logits = (3 + 0.5, 6).
  EXPECT_NEAR(Loss(model, params, x, labels), RowLoss({3.5, 6.0}, 0), 1e-5);
}

TEST(MlpModelTest, InitializeFollowsSeedAndHeBound) {
  MlpModel model(100, {50}, 10);
  std::vector<float> a(static_cast<size_t>(model.dim()));
  std::vector<float> b(a.size());

  model.Initialize(1, a);
  model.Initialize(2, b);

  EXPECT_NE(a, b);
  const float bound = std::sqrt(6.0F / 100.0F);
  float max_abs = 0;
  double sum_squares = 0;
  constexpr size_t kWeights = size_t{50} * 100;
  for (size_t i = 0; i < kWeights; ++i) {
    max_abs = std::max(max_abs, std::abs(a[i]));
    sum_squares += static_cast<double>(a[i]) * a[i];
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.9F * bound);
  // Uniform(-B, B) has variance B^2 / 3 = 2 / fan_in.
  EXPECT_NEAR(sum_squares / static_cast<double>(kWeights), 2.0 / 100, 0.002);
  for (size_t i = kWeights; i < kWeights + 50; ++i) {
    EXPECT_EQ(a[i], 0.0F) << i;
  }
}

}  // namespace
}  // namespace anchorage::model
