// The preset studies: what they set, what they sweep and what they leave to
// the user's flags; and which runs the report keeps.
#include "compare/study.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/data/dataset.h"
#include "common/report/table.h"
#include "compare/report.h"

namespace anchorage::compare {
namespace {

using report::FormatNumber;

using algo::AggregationMode;
using algo::Algorithm;
using config::Study;

config::RunConfig Base(Study study) {
  config::RunConfig config;
  config.compare.study = study;
  return config;
}

TEST(ComparePlanStudyTest, CustomRunsEachAlgorithmWithItsDefaults) {
  config::RunConfig base = Base(Study::kCustom);
  base.compare.algorithms = {Algorithm::kLocalSgd, Algorithm::kOverlapLocalSgd,
                             Algorithm::kSlowMo};

  const StudyPlan plan = PlanStudy(base, {});

  ASSERT_EQ(plan.runs.size(), 3U);
  EXPECT_EQ(plan.labels, (std::vector<std::string>{
                             "local-sgd", "overlap-local-sgd", "slowmo"}));
  EXPECT_EQ(plan.runs[0].config.train.alpha, 1.0);
  EXPECT_EQ(plan.runs[1].config.train.alpha, 0.6);
  EXPECT_EQ(plan.runs[2].config.train.beta, 0.5);
  EXPECT_EQ(plan.trace_figures.size(), 4U);
}

TEST(ComparePlanStudyTest, WoodworthSweepsMixAndTunesTheStepSize) {
  const StudyPlan plan = PlanStudy(Base(Study::kWoodworth), {});

  EXPECT_TRUE(plan.tune_lr);
  EXPECT_EQ(plan.settings.size(), 5U);
  EXPECT_EQ(plan.runs.size(), 5U * 2U * 6U);
  const config::RunConfig& first = plan.runs.front().config;
  EXPECT_EQ(first.train.workers, 25);
  EXPECT_EQ(first.train.dataset, data::DatasetKind::kFashionMnistBinary);
  EXPECT_EQ(first.train.model, "softmax");
  EXPECT_TRUE(first.train.standardize);
  EXPECT_EQ(first.train.batch_size, 1);
  EXPECT_EQ(first.train.max_versions, 1000);
  EXPECT_EQ(first.train.momentum, 0.0);
  EXPECT_EQ(first.train.partition, "pairs:0");
  EXPECT_EQ(plan.runs.back().config.train.partition, "pairs:1");
}

// QSGD at 3-8 bits and DQ-SGD at budgets 3-6 in steps of half a bit, and
// dense: one plot of accuracy against the bits each run spent.
TEST(ComparePlanStudyTest, QuantizationSpendsEachBudgetOnce) {
  const StudyPlan plan = PlanStudy(Base(Study::kQuantization), {});
  EXPECT_EQ(plan.runs.size(), 6U + 7U + 1U);
  EXPECT_TRUE(plan.show_bits);
  for (const RunSpec& run : plan.runs) {
    EXPECT_EQ(run.config.train.algorithm, Algorithm::kMinibatchSgd);
    EXPECT_EQ(run.config.train.local_steps, 1);
    if (run.label == "dqsgd") {
      EXPECT_EQ(run.setting,
                FormatNumber(run.config.codec_options.bit_budget) + " bits");
    }
  }
  ASSERT_EQ(plan.sweep_figures.size(), 1U);
  EXPECT_EQ(plan.sweep_figures[0].x_metric, SweepMetric::kMeanBits);
}

TEST(ComparePlanStudyTest, PresetsKeepTheUsersFlags) {
  config::RunConfig base = Base(Study::kOverlap);
  base.train.workers = 8;

  const StudyPlan plan = PlanStudy(base, {"--workers"});

  EXPECT_EQ(plan.runs.front().config.train.workers, 8);
  EXPECT_EQ(plan.runs.front().config.train.local_steps, 2);
  EXPECT_EQ(plan.runs.front().config.train.partition, "dirichlet:0.5");
  EXPECT_EQ(plan.user_overrides, std::vector<std::string>{"--workers 8"});
}

// The step size is tuned with no latency over 3 values per series, then
// each other setting runs each series once with the picked one.
TEST(ComparePlanStudyTest, OverlapTunesOnceAndReusesTheStepSize) {
  const StudyPlan plan = PlanStudy(Base(Study::kOverlap), {});
  EXPECT_EQ(plan.tuning_setting, "no latency");
  ASSERT_EQ(plan.settings.size(), 6U);
  ASSERT_EQ(plan.labels.size(), 4U);
  EXPECT_EQ(plan.runs.size(), 4U * 4U + 4U * 5U);
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(plan.runs[i].tuned_lr, i >= 16) << i;
  }
  const RunSpec& paper = plan.runs[0];
  EXPECT_EQ(paper.config.server.aggregation, AggregationMode::kSync);
  EXPECT_EQ(paper.config.train.alpha, 0.6);
  EXPECT_EQ(paper.config.train.beta, 0.7);
  EXPECT_TRUE(paper.config.train.nesterov);
  const RunSpec& async = plan.runs[4];
  EXPECT_EQ(async.config.server.aggregation, AggregationMode::kAsync);
  EXPECT_EQ(async.config.server.max_staleness, 64);
  // Fully synchronous SGD: one gradient a round.
  EXPECT_EQ(plan.runs[12].config.train.algorithm, Algorithm::kMinibatchSgd);
  EXPECT_EQ(plan.runs[12].config.train.local_steps, 1);
  EXPECT_EQ(plan.runs.back().config.simulate.random_slowdown, "0.1:4");
  EXPECT_EQ(plan.targets, (std::vector<double>{0.80, 0.83, 0.85}));
}

TEST(ComparePlanStudyTest, CompressionRunsEveryCodecOnOneAlgorithm) {
  const StudyPlan plan = PlanStudy(Base(Study::kCompression), {});
  ASSERT_EQ(plan.runs.size(), 12U);
  std::set<std::string> codecs;
  for (const RunSpec& run : plan.runs) {
    codecs.insert(run.config.train.codec);
    EXPECT_EQ(run.config.train.algorithm, Algorithm::kMinibatchSgd);
    EXPECT_EQ(run.config.train.local_steps, 1);
    EXPECT_EQ(run.config.server.aggregation, AggregationMode::kSync);
    EXPECT_TRUE(run.config.Validate().ok()) << run.label;
  }
  EXPECT_EQ(codecs, (std::set<std::string>{"dense", "fp16", "qsgd", "dqsgd",
                                           "topk", "sketch", "fetchsgd"}));
  // FetchSGD's momentum is the server's, in sketch space; the others keep
  // minibatch SGD's momentum.
  for (const RunSpec& run : plan.runs) {
    const bool fetchsgd = run.config.train.codec == "fetchsgd";
    EXPECT_EQ(run.config.train.momentum, fetchsgd ? 0.0 : 0.9) << run.label;
    EXPECT_EQ(run.config.codec_options.sketch_momentum, fetchsgd ? 0.9 : 0.0)
        << run.label;
  }
  config::RunConfig given = Base(Study::kCompression);
  given.train.momentum = 0.5;
  const StudyPlan given_plan = PlanStudy(given, {"--momentum"});
  EXPECT_EQ(given_plan.runs.back().config.train.codec, "fetchsgd");
  EXPECT_EQ(given_plan.runs.back().config.train.momentum, 0.5);

  config::RunConfig local = Base(Study::kCompression);
  local.compare.algorithms = {Algorithm::kLocalSgd};
  const StudyPlan local_plan = PlanStudy(local, {"--algorithms"});
  EXPECT_EQ(local_plan.runs.front().config.train.algorithm,
            Algorithm::kLocalSgd);
  EXPECT_EQ(local_plan.runs.front().config.train.local_steps, 8);
}

TEST(CompareReportedRunsTest, TunedStudiesKeepTheLowestTrainLossPerGroup) {
  StudyPlan plan;
  plan.tune_lr = true;
  plan.settings = {"P=0"};
  plan.labels = {"local-sgd", "minibatch-sgd"};
  std::vector<RunOutcome> runs(4);
  const double losses[] = {0.4, 0.3, 0.2, 0.5};
  const double lrs[] = {0.01, 0.1, 0.01, 0.1};
  const char* labels[] = {"local-sgd", "local-sgd", "minibatch-sgd",
                          "minibatch-sgd"};
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].setting = "P=0";
    runs[i].label = labels[i];
    runs[i].lr = lrs[i];
    runs[i].summary.train_loss = losses[i];
  }

  const std::vector<SeededRun> reported = ReportedRuns(plan, runs);

  ASSERT_EQ(reported.size(), 2U);
  EXPECT_EQ(reported[0].seeds, (std::vector<const RunOutcome*>{&runs[1]}));
  EXPECT_EQ(reported[1].seeds, (std::vector<const RunOutcome*>{&runs[2]}));
}

TEST(ComparePlanStudyTest, SeedsRepeatEveryRunInSeedOrder) {
  config::RunConfig base;
  base.compare.algorithms = {Algorithm::kLocalSgd, Algorithm::kMinibatchSgd};
  base.compare.seeds = {3, 1, 2};
  const StudyPlan plan = PlanStudy(base, {});
  ASSERT_EQ(plan.runs.size(), 6U);
  EXPECT_EQ(plan.seeds, (std::vector<uint64_t>{3, 1, 2}));
  const uint64_t seeds[] = {3, 1, 2, 3, 1, 2};
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(plan.runs[i].config.train.seed, seeds[i]);
    EXPECT_EQ(plan.runs[i].config.train.algorithm,
              i < 3 ? Algorithm::kLocalSgd : Algorithm::kMinibatchSgd);
  }
  // Without --seeds, --seed alone, once.
  base.compare.seeds.clear();
  base.train.seed = 7;
  EXPECT_EQ(PlanStudy(base, {}).seeds, (std::vector<uint64_t>{7}));
  EXPECT_EQ(PlanStudy(base, {}).runs.size(), 2U);
}

}  // namespace
}  // namespace anchorage::compare
