#include "common/objective/objective.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/objective/logistic.h"
#include "common/objective/quadratic.h"

namespace anchorage::objective {
namespace {

// Returns the gradient of F_worker at x with a generator seeded by `seed`,
// and the value StochasticGradient returned in `*loss` if non-null.
template <typename Scalar>
std::vector<Scalar> Gradient(const Objective<Scalar>& objective, int worker,
                             const std::vector<Scalar>& x, uint64_t seed,
                             Scalar* loss = nullptr) {
  std::vector<Scalar> grad(static_cast<size_t>(objective.dim()));
  std::mt19937_64 rng(seed);
  const Scalar value = objective.StochasticGradient(worker, x, rng, grad);
  if (loss != nullptr) *loss = value;
  return grad;
}

// Returns F_worker(x), the noise-free value StochasticGradient returns.
template <typename Scalar>
Scalar WorkerLoss(const Objective<Scalar>& objective, int worker,
                  const std::vector<Scalar>& x) {
  Scalar loss = 0;
  Gradient(objective, worker, x, 0, &loss);
  return loss;
}

// Returns the mean over workers of the gradients drawn with `rng`.
template <typename Scalar>
std::vector<Scalar> MeanGradient(const Objective<Scalar>& objective,
                                 const std::vector<Scalar>& x,
                                 std::mt19937_64& rng) {
  const auto dim = static_cast<size_t>(objective.dim());
  std::vector<Scalar> mean(dim, 0);
  std::vector<Scalar> grad(dim);
  for (int i = 0; i < objective.num_workers(); ++i) {
    objective.StochasticGradient(i, x, rng, grad);
    for (size_t j = 0; j < dim; ++j) {
      mean[j] += grad[j] / static_cast<Scalar>(objective.num_workers());
    }
  }
  return mean;
}

// Asserts that the gradient of F_worker at x matches central differences of
// the returned loss, coordinate by coordinate.
void ExpectGradientMatchesFiniteDifferences(const Objective<double>& objective,
                                            int worker,
                                            const std::vector<double>& x,
                                            double tolerance) {
  const std::vector<double> grad = Gradient(objective, worker, x, 0);
  constexpr double kStep = 1e-5;
  for (size_t j = 0; j < x.size(); ++j) {
    std::vector<double> plus = x;
    std::vector<double> minus = x;
    plus[j] += kStep;
    minus[j] -= kStep;
    const double numeric = (WorkerLoss(objective, worker, plus) -
                            WorkerLoss(objective, worker, minus)) /
                           (2 * kStep);
    EXPECT_NEAR(grad[j], numeric, tolerance)
        << "worker " << worker << " coordinate " << j;
  }
}

std::vector<double> Point(size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> x(dim);
  for (double& value : x) {
    value = normal(rng);
  }
  return x;
}

std::vector<float> ToFloat(const std::vector<double>& values) {
  return {values.begin(), values.end()};
}

// Expects `status` to be kInvalidArgument with `part` in its message.
void ExpectInvalidArgument(const Status& status, const std::string& part) {
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(part), std::string::npos)
      << "expected \"" << part << "\" in " << status.ToString();
}

std::unique_ptr<Quadratic<double>> TwoWorkerQuadratic(double noise_std) {
  // F_0 = 1/2 (x0 - 0)^2 + 2/2 (x1 - 1)^2, F_1 = 3/2 (x0 - 1)^2 +
  // 1/2 (x1 + 2)^2.
  StatusOr<std::unique_ptr<Quadratic<double>>> quadratic =
      Quadratic<double>::Create(2, 2, {1, 2, 3, 1}, {0, 1, 1, -2}, noise_std);
  EXPECT_TRUE(quadratic.ok()) << quadratic.status().ToString();
  return quadratic.ok() ? std::move(quadratic).value() : nullptr;
}

TEST(QuadraticTest, GradientIsAnalyticWithoutNoise) {
  const std::unique_ptr<Quadratic<double>> quadratic = TwoWorkerQuadratic(0.0);
  ASSERT_NE(quadratic, nullptr);
  EXPECT_EQ(quadratic->dim(), 2);
  EXPECT_EQ(quadratic->num_workers(), 2);
  const std::vector<double> x = {0.5, -1.0};

  std::mt19937_64 rng(3);
  const std::mt19937_64 untouched = rng;
  std::vector<double> grad(2, 99.0);
  const double loss0 = quadratic->StochasticGradient(0, x, rng, grad);
  EXPECT_DOUBLE_EQ(grad[0], 1 * (0.5 - 0));
  EXPECT_DOUBLE_EQ(grad[1], 2 * (-1.0 - 1));
  EXPECT_DOUBLE_EQ(loss0, 0.5 * 0.25 + 1.0 * 4.0);
  const double loss1 = quadratic->StochasticGradient(1, x, rng, grad);
  EXPECT_DOUBLE_EQ(grad[0], 3 * (0.5 - 1));
  EXPECT_DOUBLE_EQ(grad[1], 1 * (-1.0 + 2));
  EXPECT_DOUBLE_EQ(loss1, 1.5 * 0.25 + 0.5 * 1.0);
  EXPECT_DOUBLE_EQ(quadratic->Loss(x), (loss0 + loss1) / 2);
  // Noise-free gradients draw nothing.
  EXPECT_EQ(rng, untouched);
}

TEST(QuadraticTest, GradientMatchesFiniteDifferences) {
  const StatusOr<std::unique_ptr<Quadratic<double>>> quadratic =
      MakeRandomQuadratic<double>(4, 6, 0.5, 4.0, 2.0, 0.0, 17);
  ASSERT_TRUE(quadratic.ok()) << quadratic.status().ToString();
  const std::vector<double> x = Point(6, 1);
  for (int worker = 0; worker < 4; ++worker) {
    ExpectGradientMatchesFiniteDifferences(**quadratic, worker, x, 1e-7);
  }
}

TEST(QuadraticTest, MinimizerIsZeroOfMeanGradient) {
  const StatusOr<std::unique_ptr<Quadratic<double>>> quadratic =
      MakeRandomQuadratic<double>(5, 8, 0.1, 10.0, 3.0, 0.0, 23);
  ASSERT_TRUE(quadratic.ok()) << quadratic.status().ToString();
  const std::optional<std::vector<double>> minimizer =
      (*quadratic)->Minimizer();
  ASSERT_TRUE(minimizer.has_value());
  ASSERT_EQ(minimizer->size(), 8U);
  std::mt19937_64 rng(0);
  const std::vector<double> mean = MeanGradient(**quadratic, *minimizer, rng);
  for (size_t j = 0; j < mean.size(); ++j) {
    EXPECT_NEAR(mean[j], 0.0, 1e-12) << "coordinate " << j;
  }
  // Heterogeneous workers: individual gradients at x* are not zero.
  const std::vector<double> grad0 = Gradient(**quadratic, 0, *minimizer, 0);
  EXPECT_GT(std::abs(grad0[0]), 1e-3);
  // And x* is the minimum: moving any coordinate raises F.
  const double best = (*quadratic)->Loss(*minimizer);
  for (size_t j = 0; j < 8; ++j) {
    std::vector<double> moved = *minimizer;
    moved[j] += 1e-3;
    EXPECT_GT((*quadratic)->Loss(moved), best) << "coordinate " << j;
  }
}

TEST(QuadraticTest, NoiseStreamIsReplayable) {
  constexpr double kNoiseStd = 0.7;
  const std::unique_ptr<Quadratic<double>> noisy =
      TwoWorkerQuadratic(kNoiseStd);
  const std::unique_ptr<Quadratic<double>> exact = TwoWorkerQuadratic(0.0);
  ASSERT_NE(noisy, nullptr);
  ASSERT_NE(exact, nullptr);
  const std::vector<double> x = {0.25, 3.0};

  std::mt19937_64 first(99);
  std::mt19937_64 second(99);
  std::mt19937_64 reference(99);
  std::vector<double> grad_first(2);
  std::vector<double> grad_second(2);
  for (int call = 0; call < 5; ++call) {
    const int worker = call % 2;
    noisy->StochasticGradient(worker, x, first, grad_first);
    noisy->StochasticGradient(worker, x, second, grad_second);
    EXPECT_EQ(grad_first, grad_second) << "call " << call;

    // The documented stream: dim() draws of a fresh normal distribution.
    const std::vector<double> clean = Gradient(*exact, worker, x, 0);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (size_t j = 0; j < 2; ++j) {
      const double z = normal(reference);
      EXPECT_NEAR(grad_first[j] - clean[j], kNoiseStd * z, 1e-12)
          << "call " << call << " coordinate " << j;
    }
  }
  // A differently seeded generator gives different noise.
  std::mt19937_64 other(100);
  noisy->StochasticGradient(0, x, other, grad_second);
  EXPECT_NE(grad_second, Gradient(*noisy, 0, x, 99));
}

TEST(QuadraticTest, FloatAndDoubleAgreeToFloatPrecision) {
  const StatusOr<std::unique_ptr<Quadratic<double>>> in_double =
      MakeRandomQuadratic<double>(3, 16, 0.5, 2.0, 1.5, 0.3, 5);
  const StatusOr<std::unique_ptr<Quadratic<float>>> in_float =
      MakeRandomQuadratic<float>(3, 16, 0.5, 2.0, 1.5, 0.3, 5);
  ASSERT_TRUE(in_double.ok() && in_float.ok());
  const std::vector<double> x = Point(16, 8);
  const std::vector<float> x_float = ToFloat(x);
  for (int worker = 0; worker < 3; ++worker) {
    double loss = 0;
    float loss_float = 0;
    const std::vector<double> grad = Gradient(**in_double, worker, x, 4, &loss);
    const std::vector<float> grad_float =
        Gradient(**in_float, worker, x_float, 4, &loss_float);
    EXPECT_NEAR(loss_float, loss, 1e-5 * std::abs(loss));
    for (size_t j = 0; j < grad.size(); ++j) {
      EXPECT_NEAR(grad_float[j], grad[j], 1e-5 * (1 + std::abs(grad[j])))
          << "worker " << worker << " coordinate " << j;
    }
  }
  EXPECT_NEAR((*in_float)->Loss(x_float), (*in_double)->Loss(x),
              1e-5 * (*in_double)->Loss(x));
  const std::vector<float> minimizer_float = *(*in_float)->Minimizer();
  const std::vector<double> minimizer = *(*in_double)->Minimizer();
  for (size_t j = 0; j < minimizer.size(); ++j) {
    EXPECT_NEAR(minimizer_float[j], minimizer[j],
                1e-5 * (1 + std::abs(minimizer[j])));
  }
}

// shared/ALGORITHMS.md section 2: with a = (1, 3), b = (0, 1), eta = 0.1 and
// K = 10 local steps, local GD converges to 0.5987 and minibatch GD to the
// minimiser 0.75.
TEST(QuadraticTest, LocalGradientDescentHasTheHeterogeneityBias) {
  StatusOr<std::unique_ptr<Quadratic<double>>> quadratic =
      Quadratic<double>::Create(2, 1, {1, 3}, {0, 1}, 0.0);
  ASSERT_TRUE(quadratic.ok()) << quadratic.status().ToString();
  const Objective<double>& objective = **quadratic;
  constexpr double kEta = 0.1;
  constexpr int kLocalSteps = 10;
  std::mt19937_64 rng(0);
  std::vector<double> grad(1);

  double local = 5.0;
  double minibatch = 5.0;
  for (int round = 0; round < 200; ++round) {
    double sum = 0.0;
    for (int worker = 0; worker < 2; ++worker) {
      std::vector<double> x = {local};
      for (int step = 0; step < kLocalSteps; ++step) {
        objective.StochasticGradient(worker, x, rng, grad);
        x[0] -= kEta * grad[0];
      }
      sum += x[0];
    }
    local = sum / 2;
    minibatch -= kEta * MeanGradient(objective, {minibatch}, rng)[0];
  }
  const double c0 = std::pow(1 - kEta * 1, kLocalSteps);
  const double c1 = std::pow(1 - kEta * 3, kLocalSteps);
  const double predicted =
      (0 * (1 - c0) + 1 * (1 - c1)) / ((1 - c0) + (1 - c1));
  EXPECT_NEAR(predicted, 0.5987, 1e-4);
  EXPECT_NEAR(local, predicted, 1e-9);
  EXPECT_NEAR(minibatch, 0.75, 1e-9);
  EXPECT_DOUBLE_EQ((*objective.Minimizer())[0], 0.75);
}

TEST(QuadraticTest, CreateRejectsBadShapesAndValues) {
  const std::vector<double> ones(6, 1.0);
  ExpectInvalidArgument(Quadratic<double>::Create(0, 3, {}, {}, 0.0).status(),
                        "num_workers");
  ExpectInvalidArgument(Quadratic<double>::Create(2, 0, {}, {}, 0.0).status(),
                        "dim");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, int64_t{1} << 40, {}, {}, 0.0).status(),
      "num_workers * dim");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, {1, 1, 1}, ones, 0.0).status(),
      "num_workers * dim = 6");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, ones, {1, 1}, 0.0).status(),
      "num_workers * dim = 6");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, {1, 1, 0, 1, 1, 1}, ones, 0.0).status(),
      "a[2]");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, {1, 1, 1, 1, -2, 1}, ones, 0.0).status(),
      "a[4]");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, ones, {0, 0, 0, 0, 0, NAN}, 0.0).status(),
      "b[5]");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, ones, ones, -0.1).status(), "noise_std");
  ExpectInvalidArgument(
      Quadratic<double>::Create(2, 3, ones, ones, INFINITY).status(),
      "noise_std");
  // Finite in double, but not as a float.
  ExpectInvalidArgument(
      Quadratic<float>::Create(2, 3, ones, {0, 1e300, 0, 0, 0, 0}, 0.0)
          .status(),
      "b[1]");
  ExpectInvalidArgument(
      Quadratic<float>::Create(2, 3, {1, 1, 1, 1e-60, 1, 1}, ones, 0.0)
          .status(),
      "a[3]");
}

TEST(MakeRandomQuadraticTest, ZeroHeterogeneityGivesIdenticalCentres) {
  const StatusOr<std::unique_ptr<Quadratic<double>>> quadratic =
      MakeRandomQuadratic<double>(6, 5, 1.0, 3.0, 0.0, 0.0, 31);
  ASSERT_TRUE(quadratic.ok()) << quadratic.status().ToString();
  const std::span<const double> b = (*quadratic)->b();
  ASSERT_EQ(b.size(), 30U);
  for (int worker = 1; worker < 6; ++worker) {
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(b[5 * static_cast<size_t>(worker) + j], b[j]);
    }
  }
  // Every worker's gradient vanishes at the shared minimiser.
  const std::vector<double> minimizer = *(*quadratic)->Minimizer();
  for (int worker = 0; worker < 6; ++worker) {
    for (const double g : Gradient(**quadratic, worker, minimizer, 0)) {
      EXPECT_NEAR(g, 0.0, 1e-12) << "worker " << worker;
    }
  }
}

TEST(MakeRandomQuadraticTest, DrawsWithinRangesAndScalesCentres) {
  const StatusOr<std::unique_ptr<Quadratic<double>>> narrow =
      MakeRandomQuadratic<double>(50, 40, 0.5, 2.0, 1.0, 0.0, 3);
  const StatusOr<std::unique_ptr<Quadratic<double>>> wide =
      MakeRandomQuadratic<double>(50, 40, 0.5, 2.0, 4.0, 0.0, 3);
  const StatusOr<std::unique_ptr<Quadratic<double>>> again =
      MakeRandomQuadratic<double>(50, 40, 0.5, 2.0, 1.0, 0.0, 3);
  const StatusOr<std::unique_ptr<Quadratic<double>>> reseeded =
      MakeRandomQuadratic<double>(50, 40, 0.5, 2.0, 1.0, 0.0, 4);
  ASSERT_TRUE(narrow.ok() && wide.ok() && again.ok() && reseeded.ok());
  for (const double a : (*narrow)->a()) {
    EXPECT_GE(a, 0.5);
    EXPECT_LE(a, 2.0);
  }
  double sum_squares = 0.0;
  for (const double b : (*narrow)->b()) {
    sum_squares += b * b;
  }
  // 2000 draws: the sample standard deviation is 1 +- 0.016.
  EXPECT_NEAR(std::sqrt(sum_squares / 2000), 1.0, 0.1);
  // The seed fixes a and the standard-normal draws behind b.
  const auto narrow_a = (*narrow)->a();
  const auto wide_a = (*wide)->a();
  EXPECT_TRUE(std::equal(narrow_a.begin(), narrow_a.end(), wide_a.begin()));
  for (size_t k = 0; k < 2000; ++k) {
    EXPECT_DOUBLE_EQ((*wide)->b()[k], 4.0 * (*narrow)->b()[k]);
  }
  const auto again_b = (*again)->b();
  const auto reseeded_b = (*reseeded)->b();
  EXPECT_TRUE(
      std::equal(again_b.begin(), again_b.end(), (*narrow)->b().begin()));
  EXPECT_FALSE(
      std::equal(reseeded_b.begin(), reseeded_b.end(), (*narrow)->b().begin()));
}

TEST(MakeRandomQuadraticTest, RejectsBadArguments) {
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(2, 3, 0.0, 1.0, 1.0, 0.0, 0).status(),
      "a_min");
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(2, 3, 2.0, 1.0, 1.0, 0.0, 0).status(),
      "a_max");
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(2, 3, 1.0, INFINITY, 1.0, 0.0, 0).status(),
      "a_max");
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(2, 3, 1.0, 2.0, -1.0, 0.0, 0).status(),
      "heterogeneity");
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(0, 3, 1.0, 2.0, 1.0, 0.0, 0).status(),
      "num_workers");
  ExpectInvalidArgument(
      MakeRandomQuadratic<double>(2, 0, 1.0, 2.0, 1.0, 0.0, 0).status(), "dim");
  ExpectInvalidArgument(
      MakeRandomQuadratic<float>(2, 3, 1.0, 2.0, 1.0, -1.0, 0).status(),
      "noise_std");
}

TEST(LogisticTest, FullBatchGradientMatchesFiniteDifferences) {
  const StatusOr<std::unique_ptr<Logistic<double>>> logistic =
      MakeRandomLogistic<double>(3, 7, 40, 1.0, 0.1, /*batch_size=*/40,
                                 /*l2=*/0.05, 2);
  ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
  const std::vector<double> x = Point(7, 3);
  for (int worker = 0; worker < 3; ++worker) {
    ExpectGradientMatchesFiniteDifferences(**logistic, worker, x, 1e-7);
  }

  std::mt19937_64 rng(5);
  const std::mt19937_64 untouched = rng;
  std::vector<double> grad(7);
  (*logistic)->StochasticGradient(0, x, rng, grad);
  EXPECT_EQ(rng, untouched) << "a full-batch gradient must draw nothing";
}

TEST(LogisticTest, MinibatchGradientIsUnbiasedAndReplayable) {
  const StatusOr<std::unique_ptr<Logistic<double>>> minibatch =
      MakeRandomLogistic<double>(2, 5, 50, 1.0, 0.1, 4, 0.01, 8);
  const StatusOr<std::unique_ptr<Logistic<double>>> full =
      MakeRandomLogistic<double>(2, 5, 50, 1.0, 0.1, 50, 0.01, 8);
  ASSERT_TRUE(minibatch.ok() && full.ok());
  const std::vector<double> x = Point(5, 6);
  const std::vector<double> exact = Gradient(**full, 1, x, 0);

  std::mt19937_64 rng(12);
  std::vector<double> sum(5, 0.0);
  std::vector<double> grad(5);
  constexpr int kDraws = 20000;
  for (int draw = 0; draw < kDraws; ++draw) {
    const double loss = (*minibatch)->StochasticGradient(1, x, rng, grad);
    if (draw == 0) {
      EXPECT_DOUBLE_EQ(loss, WorkerLoss(**full, 1, x));
    }
    for (size_t j = 0; j < 5; ++j) {
      sum[j] += grad[j];
    }
  }
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_NEAR(sum[j] / kDraws, exact[j], 0.02) << "coordinate " << j;
  }

  EXPECT_EQ(Gradient(**minibatch, 0, x, 77), Gradient(**minibatch, 0, x, 77));
  EXPECT_NE(Gradient(**minibatch, 0, x, 77), Gradient(**minibatch, 0, x, 78));
}

TEST(LogisticTest, GradientDescentDecreasesLossAndLearnsTheTeacher) {
  const StatusOr<std::unique_ptr<Logistic<double>>> logistic =
      MakeRandomLogistic<double>(4, 10, 200, 1.0, /*label_noise=*/0.0,
                                 /*batch_size=*/200, /*l2=*/0.0, 21);
  ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
  std::vector<double> x(10, 0.0);
  std::mt19937_64 rng(0);
  double previous = (*logistic)->Loss(x);
  EXPECT_NEAR(previous, std::log(2.0), 1e-12);
  for (int step = 0; step < 100; ++step) {
    const std::vector<double> grad = MeanGradient(**logistic, x, rng);
    for (size_t j = 0; j < x.size(); ++j) {
      x[j] -= 0.5 * grad[j];
    }
    const double loss = (*logistic)->Loss(x);
    EXPECT_LT(loss, previous) << "step " << step;
    previous = loss;
  }
  EXPECT_LT(previous, 0.3);
  EXPECT_GT((*logistic)->Accuracy(x), 0.9);
}

TEST(LogisticTest, TeacherDirectionClassifiesCleanLabelsPerfectly) {
  // Two workers, labels 1 iff f0 - f1 > 0.
  const std::vector<double> teacher = {1.0, -1.0};
  const std::vector<double> opposite = {-1.0, 1.0};
  const StatusOr<std::unique_ptr<Logistic<double>>> logistic =
      Logistic<double>::Create({{1, 0, 0, 2, 3, 1}, {-1, -4, 0.5, 0.25}},
                               {{1, 0, 1}, {1, 1}}, 2, 1, 0.0);
  ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
  EXPECT_EQ((*logistic)->num_workers(), 2);
  EXPECT_EQ((*logistic)->num_examples(0), 3);
  EXPECT_EQ((*logistic)->num_examples(1), 2);
  EXPECT_DOUBLE_EQ((*logistic)->Accuracy(teacher), 1.0);
  EXPECT_DOUBLE_EQ((*logistic)->Accuracy(opposite), 0.0);
  EXPECT_GT((*logistic)->Accuracy(teacher), 0.8);
}

TEST(LogisticTest, FloatAndDoubleAgreeToFloatPrecision) {
  const StatusOr<std::unique_ptr<Logistic<double>>> in_double =
      MakeRandomLogistic<double>(3, 12, 100, 0.5, 0.1, 8, 0.01, 4);
  const StatusOr<std::unique_ptr<Logistic<float>>> in_float =
      MakeRandomLogistic<float>(3, 12, 100, 0.5, 0.1, 8, 0.01, 4);
  ASSERT_TRUE(in_double.ok() && in_float.ok());
  const std::vector<double> x = Point(12, 2);
  const std::vector<float> x_float = ToFloat(x);
  for (int worker = 0; worker < 3; ++worker) {
    double loss = 0;
    float loss_float = 0;
    const std::vector<double> grad = Gradient(**in_double, worker, x, 6, &loss);
    const std::vector<float> grad_float =
        Gradient(**in_float, worker, x_float, 6, &loss_float);
    EXPECT_NEAR(loss_float, loss, 1e-5 * loss);
    for (size_t j = 0; j < grad.size(); ++j) {
      EXPECT_NEAR(grad_float[j], grad[j], 1e-5 * (1 + std::abs(grad[j])))
          << "worker " << worker << " coordinate " << j;
    }
  }
  EXPECT_NEAR((*in_float)->Loss(x_float), (*in_double)->Loss(x),
              1e-5 * (*in_double)->Loss(x));
  EXPECT_DOUBLE_EQ((*in_float)->Accuracy(x_float), (*in_double)->Accuracy(x));
}

TEST(LogisticTest, CreateRejectsBadShapesAndValues) {
  using Features = std::vector<std::vector<double>>;
  using Labels = std::vector<std::vector<int>>;
  const Features features = {{1, 2, 3, 4}, {5, 6}};
  const Labels labels = {{0, 1}, {1}};
  ASSERT_TRUE(Logistic<double>::Create(features, labels, 2, 1, 0.0).ok());

  ExpectInvalidArgument(Logistic<double>::Create({}, {}, 2, 1, 0.0).status(),
                        "one worker");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, {{0, 1}}, 2, 1, 0.0).status(),
      "one entry per worker");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, labels, 0, 1, 0.0).status(), "dim");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, labels, 2, 0, 0.0).status(),
      "batch_size");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, labels, 2, 1, -1.0).status(), "l2");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, {{0, 1}, {}}, 2, 1, 0.0).status(),
      "worker 1: no examples");
  ExpectInvalidArgument(
      Logistic<double>::Create({{1, 2, 3}, {5, 6}}, labels, 2, 1, 0.0).status(),
      "worker 0: features must hold n_i * dim = 2 * 2 values, got 3");
  ExpectInvalidArgument(
      Logistic<double>::Create(features, {{0, 1}, {2}}, 2, 1, 0.0).status(),
      "worker 1: label 0 must be 0 or 1, got 2");
  ExpectInvalidArgument(
      Logistic<double>::Create({{1, 2, NAN, 4}, {5, 6}}, labels, 2, 1, 0.0)
          .status(),
      "worker 0: feature 2 must be finite");
  ExpectInvalidArgument(
      Logistic<float>::Create({{1, 2, 3, 4}, {5, 1e300}}, labels, 2, 1, 0.0)
          .status(),
      "worker 1: feature 1 must be finite");
}

TEST(MakeRandomLogisticTest, HeterogeneityDrivesWorkerGradientsApart) {
  // Gradient dissimilarity at 0: the mean over workers of
  // ||grad F_i(0) - grad F(0)||^2 (Woodworth et al.'s zeta^2 at a point).
  std::vector<double> dissimilarity;
  for (const double heterogeneity : {0.0, 1.0, 3.0}) {
    const StatusOr<std::unique_ptr<Logistic<double>>> logistic =
        MakeRandomLogistic<double>(8, 6, 500, heterogeneity, 0.0, 500, 0.0, 9);
    ASSERT_TRUE(logistic.ok()) << logistic.status().ToString();
    const std::vector<double> x(6, 0.0);
    std::mt19937_64 rng(0);
    const std::vector<double> mean = MeanGradient(**logistic, x, rng);
    double total = 0.0;
    for (int worker = 0; worker < 8; ++worker) {
      const std::vector<double> grad = Gradient(**logistic, worker, x, 0);
      for (size_t j = 0; j < grad.size(); ++j) {
        total += (grad[j] - mean[j]) * (grad[j] - mean[j]) / 8;
      }
    }
    dissimilarity.push_back(total);
  }
  EXPECT_LT(dissimilarity[0], 0.01);
  EXPECT_GT(dissimilarity[1], 5 * dissimilarity[0]);
  EXPECT_GT(dissimilarity[2], dissimilarity[1]);
}

TEST(MakeRandomLogisticTest, DeterministicForSeedAndWorkerDataIndependentOfM) {
  const std::vector<double> x = Point(4, 1);
  const StatusOr<std::unique_ptr<Logistic<double>>> a =
      MakeRandomLogistic<double>(3, 4, 30, 1.0, 0.2, 30, 0.0, 5);
  const StatusOr<std::unique_ptr<Logistic<double>>> b =
      MakeRandomLogistic<double>(3, 4, 30, 1.0, 0.2, 30, 0.0, 5);
  const StatusOr<std::unique_ptr<Logistic<double>>> more =
      MakeRandomLogistic<double>(6, 4, 30, 1.0, 0.2, 30, 0.0, 5);
  const StatusOr<std::unique_ptr<Logistic<double>>> reseeded =
      MakeRandomLogistic<double>(3, 4, 30, 1.0, 0.2, 30, 0.0, 6);
  ASSERT_TRUE(a.ok() && b.ok() && more.ok() && reseeded.ok());
  for (int worker = 0; worker < 3; ++worker) {
    EXPECT_EQ(Gradient(**a, worker, x, 0), Gradient(**b, worker, x, 0));
    EXPECT_EQ(Gradient(**a, worker, x, 0), Gradient(**more, worker, x, 0));
  }
  EXPECT_NE(Gradient(**a, 0, x, 0), Gradient(**reseeded, 0, x, 0));
}

TEST(MakeRandomLogisticTest, RejectsBadArguments) {
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(0, 4, 10, 1.0, 0.1, 1, 0.0, 0).status(),
      "num_workers");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(2, 0, 10, 1.0, 0.1, 1, 0.0, 0).status(),
      "dim");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(2, 4, 0, 1.0, 0.1, 1, 0.0, 0).status(),
      "examples_per_worker");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(1000, 1000, 10000, 1.0, 0.1, 1, 0.0, 0)
          .status(),
      "too large");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(2, 4, 10, -1.0, 0.1, 1, 0.0, 0).status(),
      "heterogeneity");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(2, 4, 10, 1.0, 0.5, 1, 0.0, 0).status(),
      "label_noise");
  ExpectInvalidArgument(
      MakeRandomLogistic<double>(2, 4, 10, 1.0, -0.1, 1, 0.0, 0).status(),
      "label_noise");
  ExpectInvalidArgument(
      MakeRandomLogistic<float>(2, 4, 10, 1.0, 0.1, 0, 0.0, 0).status(),
      "batch_size");
  ExpectInvalidArgument(
      MakeRandomLogistic<float>(2, 4, 10, 1.0, 0.1, 1, NAN, 0).status(), "l2");
}

// Contracts every objective meets, in both scalar types.
template <typename Scalar>
class ObjectiveContractTest : public ::testing::Test {
 protected:
  // One instance of each implementation, with noise in the gradients.
  static std::vector<std::unique_ptr<Objective<Scalar>>> Objectives() {
    std::vector<std::unique_ptr<Objective<Scalar>>> objectives;
    StatusOr<std::unique_ptr<Quadratic<Scalar>>> quadratic =
        MakeRandomQuadratic<Scalar>(3, 6, 0.5, 2.0, 1.0, 0.5, 1);
    StatusOr<std::unique_ptr<Logistic<Scalar>>> logistic =
        MakeRandomLogistic<Scalar>(3, 6, 40, 1.0, 0.1, 5, 0.01, 1);
    EXPECT_TRUE(quadratic.ok() && logistic.ok());
    if (quadratic.ok()) objectives.push_back(std::move(quadratic).value());
    if (logistic.ok()) objectives.push_back(std::move(logistic).value());
    return objectives;
  }

  static std::vector<Scalar> X() {
    const std::vector<double> x = Point(6, 4);
    return {x.begin(), x.end()};
  }
};

using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ObjectiveContractTest, Scalars);

TYPED_TEST(ObjectiveContractTest, LossIsTheMeanOfWorkerLosses) {
  for (const auto& objective : this->Objectives()) {
    const std::vector<TypeParam> x = this->X();
    double total = 0.0;
    for (int worker = 0; worker < objective->num_workers(); ++worker) {
      total += WorkerLoss(*objective, worker, x);
    }
    const double mean = total / objective->num_workers();
    EXPECT_NEAR(objective->Loss(x), mean, 1e-5 * mean);
  }
}

TYPED_TEST(ObjectiveContractTest, EqualGeneratorsGiveEqualGradients) {
  for (const auto& objective : this->Objectives()) {
    const std::vector<TypeParam> x = this->X();
    std::mt19937_64 first(42);
    std::mt19937_64 second(42);
    std::vector<TypeParam> grad_first(static_cast<size_t>(objective->dim()));
    std::vector<TypeParam> grad_second(grad_first.size());
    std::vector<TypeParam> grad_third(grad_first.size());
    for (int call = 0; call < 6; ++call) {
      const int worker = call % objective->num_workers();
      const TypeParam loss_first =
          objective->StochasticGradient(worker, x, first, grad_first);
      const TypeParam loss_second =
          objective->StochasticGradient(worker, x, second, grad_second);
      EXPECT_EQ(grad_first, grad_second) << "call " << call;
      EXPECT_EQ(loss_first, loss_second) << "call " << call;
    }
    // The generator moved on, so the next gradient differs from the first.
    objective->StochasticGradient(0, x, first, grad_third);
    EXPECT_NE(grad_third, Gradient(*objective, 0, x, 42));
  }
}

TYPED_TEST(ObjectiveContractTest, OverwritesTheGradientBuffer) {
  for (const auto& objective : this->Objectives()) {
    const std::vector<TypeParam> x = this->X();
    std::vector<TypeParam> grad(static_cast<size_t>(objective->dim()),
                                static_cast<TypeParam>(1e6));
    std::mt19937_64 rng(7);
    objective->StochasticGradient(1, x, rng, grad);
    EXPECT_EQ(grad, Gradient(*objective, 1, x, 7));
  }
}

}  // namespace
}  // namespace anchorage::objective
