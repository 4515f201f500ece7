// The checks of ALGORITHMS.md sections 1-3 that must hold exactly, run in
// double through the simulator, i.e. through the same round and
// aggregation code as the services.
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/objective/logistic.h"
#include "common/objective/quadratic.h"
#include "simulator/objective_learner.h"
#include "simulator/simulator.h"

namespace anchorage::simulator {
namespace {

using algo::Algorithm;

struct Trajectory {
  std::vector<double> anchor;
  std::map<uint64_t, std::vector<double>> anchors;  // by version
  // pushes[round][worker] and their base versions
  std::map<uint64_t, std::map<int, std::vector<double>>> pushes;
  std::map<uint64_t, std::map<int, uint64_t>> bases;
};

struct Setup {
  Algorithm algorithm = Algorithm::kLocalSgd;
  algo::AggregationMode mode = algo::AggregationMode::kSync;
  int workers = 4;
  int local_steps = 1;
  double alpha = 1.0;  // pull strength (overlap) or outer lr
  double beta = 0.0;
  float lr = 0.05F;
  int64_t versions = 30;
};

uint64_t LearnerSeed(int worker) {
  return 1000 + static_cast<uint64_t>(worker);
}

Trajectory Simulate(const objective::Objective<double>& objective,
                    const Setup& setup, const std::vector<double>& initial) {
  const optim::SgdOptions sgd{.lr = setup.lr};
  std::vector<std::unique_ptr<algo::Learner<double>>> learners;
  learners.reserve(static_cast<size_t>(setup.workers));
  for (int worker = 0; worker < setup.workers; ++worker) {
    learners.push_back(std::make_unique<ObjectiveLearner<double>>(
        &objective, worker, sgd, initial, LearnerSeed(worker)));
  }
  SimulationOptions options;
  options.round = {.algorithm = setup.algorithm,
                   .local_steps = setup.local_steps,
                   .alpha = setup.alpha};
  options.server = {
      .algorithm = setup.algorithm,
      .aggregator =
          {.mode = setup.mode,
           .outer = {.algorithm = setup.algorithm,
                     .alpha = algo::TraitsOf(setup.algorithm).alpha_is_outer_lr
                                  ? setup.alpha
                                  : 1.0,
                     .beta = setup.beta}},
      .workers = setup.workers,
      .local_steps = setup.local_steps,
      .schedule = sgd,
      .max_versions = setup.versions};
  options.eval_points = 2;
  const auto dim = static_cast<int64_t>(initial.size());
  auto simulator =
      Simulator<double>::Create(
          options, std::move(learners), initial,
          [&](std::span<const double> x) {
            return Simulator<double>::Evaluation{objective.Loss(x), 0.0};
          },
          [dim](int) { return codec::MakeCodec("dense", dim).value(); })
          .value();
  Trajectory run;
  simulator->set_observer(
      {.on_push =
           [&run](int worker, uint64_t round, uint64_t base,
                  std::span<const double> x) {
             run.pushes[round][worker].assign(x.begin(), x.end());
             run.bases[round][worker] = base;
           },
       .on_anchor =
           [&run](uint64_t version, std::span<const double> x) {
             run.anchors[version].assign(x.begin(), x.end());
           }});
  run.anchor = simulator->Run().anchor;
  return run;
}

void ExpectRelativelyEqual(const std::vector<double>& a,
                           const std::vector<double>& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  double diff = 0;
  double norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    norm = std::max(norm, std::abs(b[i]));
  }
  EXPECT_LE(diff, tolerance * std::max(norm, 1e-300))
      << "max difference " << diff << " at scale " << norm;
}

std::unique_ptr<objective::Logistic<double>> Task(int workers) {
  return objective::MakeRandomLogistic<double>(workers, 6, 64, 1.0, 0.1, 4,
                                               1e-3, 7)
      .value();
}

std::vector<double> Start(size_t dim) {
  std::vector<double> x(dim);
  for (size_t i = 0; i < dim; ++i) {
    x[i] = 0.1 * static_cast<double>(i) - 0.2;
  }
  return x;
}

TEST(SlowMoIdentityTest, TauOneAlphaOneBetaZeroIsMinibatchSgd) {
  const auto task = Task(4);
  const std::vector<double> initial = Start(6);
  const Trajectory slowmo = Simulate(*task,
                                     {.algorithm = Algorithm::kSlowMo,
                                      .local_steps = 1,
                                      .alpha = 1.0,
                                      .beta = 0.0},
                                     initial);
  const Trajectory minibatch =
      Simulate(*task, {.algorithm = Algorithm::kMinibatchSgd, .local_steps = 1},
               initial);
  ExpectRelativelyEqual(slowmo.anchor, minibatch.anchor, 1e-12);
  EXPECT_NE(slowmo.anchor, initial);
}

TEST(SlowMoIdentityTest, AlphaOneBetaZeroIsLocalSgd) {
  const auto task = Task(4);
  const std::vector<double> initial = Start(6);
  const Trajectory slowmo = Simulate(*task,
                                     {.algorithm = Algorithm::kSlowMo,
                                      .local_steps = 5,
                                      .alpha = 1.0,
                                      .beta = 0.0},
                                     initial);
  const Trajectory local = Simulate(
      *task, {.algorithm = Algorithm::kLocalSgd, .local_steps = 5}, initial);
  ExpectRelativelyEqual(slowmo.anchor, local.anchor, 1e-12);
}

TEST(SlowMoIdentityTest, OneWorkerBetaZeroIsLookahead) {
  const auto task = Task(1);
  const std::vector<double> initial = Start(6);
  const double alpha = 0.5;
  const int k = 5;
  const int64_t rounds = 20;
  const Trajectory slowmo = Simulate(*task,
                                     {.algorithm = Algorithm::kSlowMo,
                                      .workers = 1,
                                      .local_steps = k,
                                      .alpha = alpha,
                                      .beta = 0.0,
                                      .versions = rounds},
                                     initial);
  // Lookahead (Zhang et al. 2019): k fast steps from the slow weights φ,
  // then φ ← φ + α(θ − φ), and the fast weights restart from φ.
  ObjectiveLearner<double> fast(task.get(), 0, optim::SgdOptions{.lr = 0.05F},
                                initial, LearnerSeed(0));
  std::vector<double> slow = initial;
  for (int64_t round = 0; round < rounds; ++round) {
    fast.Adopt(slow);
    for (int step = 0; step < k; ++step) {
      fast.Step();
    }
    for (size_t i = 0; i < slow.size(); ++i) {
      slow[i] += alpha * (fast.params()[i] - slow[i]);
    }
  }
  ExpectRelativelyEqual(slowmo.anchor, slow, 1e-12);
}

TEST(LocalSgdIdentityTest, QuadraticAverageIsSgdWithAveragedNoise) {
  // Identical quadratics: the average of local SGD iterates follows SGD
  // driven by the average of the workers' noise.
  constexpr int kWorkers = 3;
  constexpr int64_t kDim = 4;
  constexpr int kSteps = 6;
  constexpr int64_t kRounds = 10;
  constexpr double kNoise = 0.3;
  const std::vector<double> a_row = {1.0, 2.0, 0.5, 3.0};
  const std::vector<double> b_row = {0.0, 1.0, -1.0, 2.0};
  std::vector<double> a;
  std::vector<double> b;
  for (int w = 0; w < kWorkers; ++w) {
    a.insert(a.end(), a_row.begin(), a_row.end());
    b.insert(b.end(), b_row.begin(), b_row.end());
  }
  const auto quadratic =
      objective::Quadratic<double>::Create(kWorkers, kDim, a, b, kNoise)
          .value();
  const std::vector<double> initial = {3.0, -2.0, 1.0, 0.5};
  const Trajectory local = Simulate(*quadratic,
                                    {.algorithm = Algorithm::kLocalSgd,
                                     .workers = kWorkers,
                                     .local_steps = kSteps,
                                     .versions = kRounds},
                                    initial);

  // Replay every worker's noise stream: each gradient draws kDim normals
  // from a fresh std::normal_distribution on the worker's generator.
  std::vector<std::mt19937_64> rngs;
  rngs.reserve(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    rngs.emplace_back(LearnerSeed(w));
  }
  const double gamma = static_cast<double>(0.05F);
  std::vector<double> x = initial;
  for (int64_t step = 0; step < kSteps * kRounds; ++step) {
    std::vector<double> noise(kDim, 0.0);
    for (int w = 0; w < kWorkers; ++w) {
      std::normal_distribution<double> normal(0.0, 1.0);
      for (int64_t j = 0; j < kDim; ++j) {
        noise[j] += kNoise * normal(rngs[w]);
      }
    }
    for (int64_t j = 0; j < kDim; ++j) {
      x[j] -= gamma * (a_row[j] * (x[j] - b_row[j]) + noise[j] / kWorkers);
    }
  }
  ExpectRelativelyEqual(local.anchor, x, 1e-12);
}

TEST(HeterogeneityTest, LocalGdConvergesToTheBiasedPointMinibatchToTheOptimum) {
  // F_m(x) = a_m/2 (x − b_m)², a = (1, 3), b = (0, 1), η = 0.1, K = 10.
  const auto quadratic =
      objective::Quadratic<double>::Create(2, 1, {1.0, 3.0}, {0.0, 1.0}, 0.0)
          .value();
  const std::vector<double> initial = {5.0};
  const float eta = 0.1F;
  const Trajectory local = Simulate(*quadratic,
                                    {.algorithm = Algorithm::kLocalSgd,
                                     .workers = 2,
                                     .local_steps = 10,
                                     .lr = eta,
                                     .versions = 400},
                                    initial);
  const Trajectory minibatch = Simulate(*quadratic,
                                        {.algorithm = Algorithm::kMinibatchSgd,
                                         .workers = 2,
                                         .local_steps = 10,
                                         .lr = eta,
                                         .versions = 400},
                                        initial);
  // Closed forms: local GD → Σ b_m(1 − c_m) / Σ(1 − c_m), c_m = (1 − η a_m)^K;
  // minibatch GD → Σ a_m b_m / Σ a_m.
  const double step = static_cast<double>(eta);
  const double c1 = std::pow(1 - step * 1.0, 10);
  const double c2 = std::pow(1 - step * 3.0, 10);
  const double biased =
      (0.0 * (1 - c1) + 1.0 * (1 - c2)) / ((1 - c1) + (1 - c2));
  EXPECT_NEAR(local.anchor[0], biased, 1e-9);
  EXPECT_NEAR(local.anchor[0], 0.5987, 5e-4);  // with η = 0.1 exactly
  EXPECT_NEAR(minibatch.anchor[0], 0.75, 1e-9);
}

// Overlap-Local-SGD with the paper's synchronous anchor, computed here
// without the simulator or the round core: each worker takes τ steps of its
// own learner, pulls toward the anchor made from the previous round,
// x ← (1 − α)·x + α·z_{t−1}, and pushes x; the anchor follows the official
// code's recurrence (outer lr 1): u ← β·u + (z − x̄)/γ ; z ← z − γ·u.
struct Reference {
  std::map<uint64_t, std::map<int, std::vector<double>>> pushes;
  std::map<uint64_t, std::vector<double>> anchors;  // by version
};

Reference OverlapByHand(const objective::Objective<double>& objective,
                        const Setup& setup, const std::vector<double>& initial,
                        uint64_t rounds) {
  std::vector<std::unique_ptr<ObjectiveLearner<double>>> learners;
  learners.reserve(static_cast<size_t>(setup.workers));
  for (int worker = 0; worker < setup.workers; ++worker) {
    learners.push_back(std::make_unique<ObjectiveLearner<double>>(
        &objective, worker, optim::SgdOptions{.lr = setup.lr}, initial,
        LearnerSeed(worker)));
  }
  const double gamma = setup.lr;
  std::vector<double> z = initial;
  std::vector<double> u(initial.size(), 0.0);
  Reference reference;
  reference.anchors[0] = z;
  for (uint64_t round = 0; round < rounds; ++round) {
    std::vector<double> mean(initial.size(), 0.0);
    for (int worker = 0; worker < setup.workers; ++worker) {
      ObjectiveLearner<double>& learner =
          *learners[static_cast<size_t>(worker)];
      for (int step = 0; step < setup.local_steps; ++step) {
        learner.Step();
      }
      std::vector<double> pulled(initial.size());
      for (size_t i = 0; i < pulled.size(); ++i) {
        pulled[i] =
            (1.0 - setup.alpha) * learner.params()[i] + setup.alpha * z[i];
      }
      learner.Adopt(pulled);
      for (size_t i = 0; i < mean.size(); ++i) {
        mean[i] += pulled[i] / setup.workers;
      }
      reference.pushes[round][worker] = std::move(pulled);
    }
    for (size_t i = 0; i < z.size(); ++i) {
      u[i] = setup.beta * u[i] + (z[i] - mean[i]) / gamma;
      z[i] -= gamma * u[i];
    }
    reference.anchors[round + 1] = z;
  }
  return reference;
}

void ExpectMatchesByHand(const Setup& setup) {
  const auto task = Task(setup.workers);
  const Trajectory run = Simulate(*task, setup, Start(6));
  const auto rounds = static_cast<uint64_t>(setup.versions);
  const Reference reference = OverlapByHand(*task, setup, Start(6), rounds);
  for (uint64_t round = 0; round < rounds; ++round) {
    for (int worker = 0; worker < setup.workers; ++worker) {
      SCOPED_TRACE("round " + std::to_string(round) + " worker " +
                   std::to_string(worker));
      ExpectRelativelyEqual(run.pushes.at(round).at(worker),
                            reference.pushes.at(round).at(worker), 1e-12);
    }
    SCOPED_TRACE("version " + std::to_string(round + 1));
    ExpectRelativelyEqual(run.anchors.at(round + 1),
                          reference.anchors.at(round + 1), 1e-12);
  }
}

TEST(OverlapTest, PushesArePulledModelsAndTheAnchorTheirMean) {
  ExpectMatchesByHand({.algorithm = Algorithm::kOverlapLocalSgd,
                       .mode = algo::AggregationMode::kSync,
                       .local_steps = 3,
                       .alpha = 0.6,
                       .versions = 12});
}

TEST(OverlapTest, MomentumAnchorsFollowTheOfficialRecurrence) {
  ExpectMatchesByHand({.algorithm = Algorithm::kOverlapLocalSgd,
                       .mode = algo::AggregationMode::kSync,
                       .local_steps = 2,
                       .alpha = 0.6,
                       .beta = 0.7,
                       .versions = 12});
}

// The asynchronous anchor with momentum, equal-speed workers and no delay:
// each round's m arrivals make m versions, and the anchor after the last
// of them is the per-round recurrence on that round's pushes.
TEST(OverlapTest, AsyncMomentumAnchorReducesToThePerRoundRecurrence) {
  const simulator::Setup setup{.algorithm = Algorithm::kOverlapLocalSgd,
                               .mode = algo::AggregationMode::kAsync,
                               .local_steps = 2,
                               .alpha = 0.6,
                               .beta = 0.7,
                               .versions = 40};
  const auto task = Task(setup.workers);
  const Trajectory run = Simulate(*task, setup, Start(6));
  const auto m = static_cast<uint64_t>(setup.workers);
  std::vector<double> z = Start(6);
  std::vector<double> u(z.size(), 0.0);
  for (uint64_t round = 0; round < 10; ++round) {
    const auto& pushes = run.pushes.at(round);
    ASSERT_EQ(pushes.size(), m);
    for (size_t i = 0; i < z.size(); ++i) {
      double mean = 0;
      for (const auto& [worker, x] : pushes) {
        mean += x[i] / static_cast<double>(m);
      }
      u[i] = setup.beta * u[i] + (z[i] - mean) / setup.lr;
      z[i] -= setup.lr * u[i];
    }
    SCOPED_TRACE("round " + std::to_string(round));
    ExpectRelativelyEqual(run.anchors.at(m * (round + 1)), z, 1e-12);
  }
}

TEST(OverlapTest, BufferSentAtRoundTIsConsumedAtRoundTPlusOne) {
  const auto task = Task(4);
  const Trajectory run = Simulate(*task,
                                  {.algorithm = Algorithm::kOverlapLocalSgd,
                                   .mode = algo::AggregationMode::kSync,
                                   .local_steps = 3,
                                   .alpha = 0.6,
                                   .versions = 12},
                                  Start(6));
  // The pull at round t uses the anchor made from round t − 1's pushes
  // (version t): exactly one round stale, never the one in flight.
  for (const auto& [round, bases] : run.bases) {
    for (const auto& [worker, base] : bases) {
      EXPECT_EQ(base, round) << "worker " << worker << " round " << round;
    }
  }
}

TEST(OverlapTest, AlphaZeroLeavesWorkersIndependent) {
  const auto task = Task(3);
  const std::vector<double> initial = Start(6);
  const Trajectory run = Simulate(*task,
                                  {.algorithm = Algorithm::kOverlapLocalSgd,
                                   .mode = algo::AggregationMode::kAsync,
                                   .workers = 3,
                                   .local_steps = 4,
                                   .alpha = 0.0,
                                   .versions = 30},
                                  initial);
  for (int worker = 0; worker < 3; ++worker) {
    ObjectiveLearner<double> alone(task.get(), worker,
                                   optim::SgdOptions{.lr = 0.05F}, initial,
                                   LearnerSeed(worker));
    for (const auto& [round, pushes] : run.pushes) {
      for (int step = 0; step < 4; ++step) {
        alone.Step();
      }
      const auto it = pushes.find(worker);
      if (it == pushes.end()) continue;
      const std::vector<double> params(alone.params().begin(),
                                       alone.params().end());
      ASSERT_EQ(it->second, params)
          << "worker " << worker << " round " << round;
    }
  }
}

}  // namespace
}  // namespace anchorage::simulator
