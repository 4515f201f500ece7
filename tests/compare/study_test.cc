// The preset studies: what they set, what they sweep and what they leave to
// the user's flags; and which runs the report keeps.
#include "compare/study.h"

#include <cmath>
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
#include "compare/traffic.h"

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

// Part A: eight codec settings on 8 workers for 20 epochs, momentum where
// the paper keeps it; part B: topk and sketch as m grows at a fixed global
// batch, for 2 epochs.
TEST(ComparePlanStudyTest, SketchRunsThePapersSettingsAndAWorkerSweep) {
  const StudyPlan plan = PlanStudy(Base(Study::kSketch), {});
  EXPECT_EQ(plan.columns, ResultsColumns::kTraffic);
  EXPECT_EQ(plan.settings,
            (std::vector<std::string>{"8 workers, 20 epochs", "m = 8", "m = 32",
                                      "m = 128", "m = 256"}));
  EXPECT_EQ(plan.labels,
            (std::vector<std::string>{"dense", "topk 0.2%", "global-topk 0.2%",
                                      "sketch 0.2% ×10", "sketch 0.2% ×20",
                                      "fetchsgd 0.2% ×10", "fetchsgd 0.2% ×20",
                                      "fetchsgd 0.2% ×40"}));
  ASSERT_EQ(plan.runs.size(), 8U + 4U * 2U);
  for (const RunSpec& run : plan.runs) {
    const config::RunConfig& c = run.config;
    EXPECT_TRUE(c.Validate().ok())
        << run.label << ": " << c.Validate().ToString();
    EXPECT_EQ(c.train.algorithm, Algorithm::kMinibatchSgd);
    EXPECT_EQ(c.train.local_steps, 1);
    EXPECT_EQ(c.server.aggregation, AggregationMode::kSync);
    EXPECT_EQ(c.train.model, "mlp:256,128");
    EXPECT_EQ(c.server.eval_examples, 0);
    EXPECT_EQ(c.codec_options.topk_fraction, 0.002);
    EXPECT_EQ(c.codec_options.sketch_rows, 5);
    EXPECT_EQ(c.codec_options.sketch_candidates, 4);
    // The momentum ρ = 0.9: the server's for dense, else the codec's.
    EXPECT_EQ(c.codec_options.sketch_momentum, 0.9) << run.label;
    EXPECT_EQ(c.train.momentum, c.train.codec == "dense" ? 0.9 : 0.0)
        << run.label;
  }
  const RunSpec& dense = plan.runs[0];
  EXPECT_EQ(dense.setting, "8 workers, 20 epochs");
  EXPECT_EQ(dense.config.train.workers, 8);
  EXPECT_EQ(dense.config.train.epochs, 20.0);
  EXPECT_EQ(dense.config.train.codec, "dense");
  EXPECT_EQ(plan.runs[4].config.train.codec, "sketch");
  EXPECT_EQ(plan.runs[4].config.codec_options.sketch_columns_per_k, 20);
  EXPECT_EQ(plan.runs[7].config.train.codec, "fetchsgd");
  EXPECT_EQ(plan.runs[7].config.codec_options.sketch_columns_per_k, 40);
  // The sweep: each worker's batch is the global 256 over m.
  const RunSpec& last = plan.runs.back();
  EXPECT_EQ(last.setting, "m = 256");
  EXPECT_EQ(last.label, "sketch 0.2% ×10");
  EXPECT_EQ(last.config.train.workers, 256);
  EXPECT_EQ(last.config.train.batch_size, 1);
  EXPECT_EQ(last.config.train.epochs, 2.0);
  EXPECT_EQ(last.config.codec_options.sketch_columns_per_k, 10);
  EXPECT_EQ(plan.runs[8 + 2].config.train.batch_size, 8);  // m = 32
  EXPECT_EQ(plan.runs[8 + 2].config.train.codec, "topk");
  EXPECT_EQ(plan.trace_settings,
            (std::vector<std::string>{"8 workers, 20 epochs"}));
  ASSERT_EQ(plan.sweep_figures.size(), 2U);
  EXPECT_EQ(plan.sweep_figures[0].x, (std::vector<double>{8, 32, 128, 256}));

  // A flag the user gives replaces the preset's default.
  config::RunConfig wide = Base(Study::kSketch);
  wide.codec_options.topk_fraction = 0.01;
  const StudyPlan wide_plan = PlanStudy(wide, {"--topk"});
  EXPECT_EQ(wide_plan.labels[1], "topk 1%");
  EXPECT_EQ(wide_plan.runs[1].config.codec_options.topk_fraction, 0.01);
  EXPECT_EQ(wide_plan.user_overrides, std::vector<std::string>{"--topk 0.01"});
}

// The paper's compression factor per codec, on d = 10,000 and k = 20.
TEST(CompareTrafficTest, PaperCompressionCountsBothDirections) {
  config::RunConfig config;
  config.codec_options.topk_fraction = 0.002;
  config.codec_options.sketch_columns_per_k = 10;
  const double d = 10000;
  config.train.codec = "sketch";  // 5 x 200 cells, P = 4
  EXPECT_DOUBLE_EQ(PaperCompression(config, 10000, 20),
                   2 * d / (1000 + 80 + 20));
  config.train.codec = "fetchsgd";
  EXPECT_DOUBLE_EQ(PaperCompression(config, 10000, 20), 2 * d / (1000 + 20));
  config.train.codec = "global-topk";
  EXPECT_DOUBLE_EQ(PaperCompression(config, 10000, 20), 2 * d / (d + 20));
  config.train.codec = "topk";  // the union of 8 disjoint top-k sets
  EXPECT_DOUBLE_EQ(PaperCompression(config, 10000, 160), 2 * d / (20 + 160));
  config.train.codec = "dense";
  EXPECT_EQ(PaperCompression(config, 10000, 10000), 1.0);
  config.train.codec = "qsgd";
  EXPECT_TRUE(std::isnan(PaperCompression(config, 10000, 10000)));

  RunOutcome run;
  run.summary.workers = 4;
  run.summary.anchor_version = 10;
  run.summary.bytes_up = 4000;
  run.summary.bytes_down = 80000;
  run.summary.anchor_changes_mean = 25.5;
  EXPECT_EQ(UpBytesPerWorkerRound(run), 100.0);
  EXPECT_EQ(DownBytesPerWorkerRound(run), 2000.0);
  EXPECT_EQ(SparseDownBytesPerWorkerRound(run), 204.0);
  run.summary.anchor_version = 0;
  EXPECT_TRUE(std::isnan(UpBytesPerWorkerRound(run)));
}

// The traffic columns replace the waiting ones, with both ratios.
TEST(CompareTrafficTest, TheSummaryShowsBothRatiosPerRun) {
  StudyPlan plan;
  plan.columns = ResultsColumns::kTraffic;
  plan.settings = {"8 workers"};
  plan.labels = {"sketch"};
  plan.targets = {0.8};
  plan.seeds = {1};
  RunOutcome run;
  run.setting = "8 workers";
  run.label = "sketch";
  run.summary.workers = 8;
  run.summary.anchor_version = 100;
  run.summary.bytes_up = 8000000;
  run.summary.raw_bytes_up = 80000000;
  run.summary.bytes_down = 16000000;
  run.summary.anchor_changes_mean = 470;
  run.paper_compression = 18.25;
  run.trace = {{.test_accuracy = 0.5}, {.test_accuracy = 0.9}};
  const StatusOr<std::string> md = RenderSummary(plan, {run}, {});
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_NE(md->find("| upload × | paper × | kB up /worker /round |"),
            std::string::npos)
      << *md;
  EXPECT_EQ(md->find("sync wait per worker"), std::string::npos) << *md;
  // 10x measured, 18.25x the paper's (to 3 digits), 10 kB up, 470
  // coordinates, 3.76 kB sparse and 20 kB sent down per worker per round.
  const size_t row = md->find("| 8 workers");
  ASSERT_NE(row, std::string::npos) << *md;
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = row + 1; i < md->size() && (*md)[i] != '\n'; ++i) {
    if ((*md)[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else if ((*md)[i] != ' ') {
      cell += (*md)[i];
    }
  }
  ASSERT_EQ(cells.size(), 14U) << *md;
  EXPECT_EQ(
      std::vector<std::string>(cells.end() - 6, cells.end()),
      (std::vector<std::string>{"10", "18.2", "10", "470", "3.76", "20"}));
  EXPECT_NE(md->find("2d / (r c + P k + k)"), std::string::npos) << *md;
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
