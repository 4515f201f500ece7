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
#include "compare/report.h"

namespace anchorage::compare {
namespace {

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
  EXPECT_EQ(plan.settings.size(), 6U);
  EXPECT_EQ(plan.runs.size(), 6U * 2U * 5U);
  const config::RunConfig& first = plan.runs.front().config;
  EXPECT_EQ(first.train.workers, 25);
  EXPECT_EQ(first.train.dataset, data::DatasetKind::kFashionMnistBinary);
  EXPECT_EQ(first.train.model, "softmax");
  EXPECT_EQ(first.train.momentum, 0.0);
  EXPECT_EQ(first.train.partition, "mix:0");
  EXPECT_EQ(plan.runs.back().config.train.partition, "mix:1");
}

TEST(ComparePlanStudyTest, PresetsKeepTheUsersFlags) {
  config::RunConfig base = Base(Study::kLatency);
  base.train.workers = 16;

  const StudyPlan plan = PlanStudy(base, {"--workers"});

  EXPECT_EQ(plan.runs.front().config.train.workers, 16);
  EXPECT_EQ(plan.runs.front().config.train.local_steps, 8);
  EXPECT_EQ(plan.user_overrides, std::vector<std::string>{"--workers 16"});
  // 5 latencies and 2 stragglers; overlap (async and sync anchor), local
  // and minibatch SGD in each.
  EXPECT_EQ(plan.runs.size(), 28U);
  EXPECT_EQ(plan.runs[0].config.server.aggregation, AggregationMode::kAsync);
  EXPECT_EQ(plan.runs[1].config.server.aggregation, AggregationMode::kSync);
  EXPECT_EQ(plan.runs[2].config.server.aggregation, std::nullopt);
  EXPECT_EQ(plan.runs.back().config.worker.slowdown, "0:4");
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
  const char* labels[] = {"local-sgd", "local-sgd", "minibatch-sgd",
                          "minibatch-sgd"};
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].setting = "P=0";
    runs[i].label = labels[i];
    runs[i].summary.train_loss = losses[i];
  }

  const std::vector<const RunOutcome*> reported = ReportedRuns(plan, runs);

  EXPECT_EQ(reported, (std::vector<const RunOutcome*>{&runs[1], &runs[2]}));
}

}  // namespace
}  // namespace anchorage::compare
