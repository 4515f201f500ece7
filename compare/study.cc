#include "compare/study.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/algo/aggregator.h"
#include "common/algo/algorithm.h"
#include "common/config/flags.h"
#include "common/data/dataset.h"
#include "common/report/table.h"

namespace anchorage::compare {
namespace {

using config::RunConfig;
using report::FormatNumber;

std::string Shown(int value) {
  return std::to_string(value);
}
std::string Shown(int64_t value) {
  return std::to_string(value);
}
std::string Shown(double value) {
  return FormatNumber(value, 6);
}
std::string Shown(const std::string& value) {
  return value;
}
std::string Shown(bool value) {
  return value ? "on" : "off";
}
std::string Shown(const std::vector<double>& values) {
  std::string text;
  for (const double value : values) {
    if (!text.empty()) text += ",";
    text += FormatNumber(value, 6);
  }
  return text;
}
std::string Shown(data::DatasetKind value) {
  return std::string(data::DatasetName(value));
}

// Applies a preset's defaults to a configuration, leaving the user's flags
// alone, and records both in the plan.
class Preset {
 public:
  Preset(const std::set<std::string>& given, StudyPlan* plan)
      : given_(given), settled_(given), plan_(plan) {}

  // Sets `*field` to `value` unless the user gave `flag`.
  template <typename T>
  void Default(const std::string& flag, T* field, T value) {
    if (given_.count(flag) > 0) {
      plan_->user_overrides.push_back(flag + " " + Shown(*field));
      return;
    }
    *field = std::move(value);
    settled_.insert(flag);
    plan_->preset_settings.push_back(flag + " " + Shown(*field));
  }

  // The flags the user or the preset set: what the defaults that depend
  // on the algorithm and codec (config::ApplyDependentDefaults) leave be.
  const std::set<std::string>& settled() const { return settled_; }

  // Records a setting the study fixes whatever the flags say.
  void Fixed(const std::string& text) {
    plan_->preset_settings.push_back(text);
  }

 private:
  const std::set<std::string>& given_;
  std::set<std::string> settled_;
  StudyPlan* plan_;
};

// Sets the algorithm and, unless `settled` holds them, the defaults that
// depend on it: its papers' --alpha and --beta, and where FetchSGD's
// momentum lives (the defaults `anchorage simulate` applies for one run).
void UseAlgorithm(RunConfig* config, algo::Algorithm algorithm,
                  const std::set<std::string>& settled) {
  config->train.algorithm = algorithm;
  config::ApplyDependentDefaults(settled, config);
}

// The four figures of every study.
std::vector<TraceFigure> StandardFigures() {
  return {
      {.file = "accuracy_vs_time.svg",
       .title = "Test accuracy over time",
       .x = TraceAxis::kSeconds,
       .y = TraceAxis::kTestAccuracy},
      {.file = "loss_vs_time.svg",
       .title = "Test loss over time",
       .x = TraceAxis::kSeconds,
       .y = TraceAxis::kTestLoss},
      {.file = "accuracy_vs_bytes.svg",
       .title = "Test accuracy against bytes sent to the server",
       .x = TraceAxis::kBytesUp,
       .y = TraceAxis::kTestAccuracy,
       .log_x = true},
      {.file = "train_loss_vs_examples.svg",
       .title = "Training loss against examples processed",
       .x = TraceAxis::kExamples,
       .y = TraceAxis::kTrainLoss},
  };
}

void PlanCustom(const RunConfig& base, const std::set<std::string>& given,
                StudyPlan* plan) {
  plan->title = "Custom comparison";
  plan->description =
      "Each of --algorithms runs once on the same data, seed and budget, "
      "with the settings the flags give.";
  plan->settings = {"custom"};
  for (const algo::Algorithm algorithm : base.compare.algorithms) {
    const std::string name(algo::AlgorithmName(algorithm));
    RunSpec run{.setting = "custom", .label = name, .config = base};
    UseAlgorithm(&run.config, algorithm, given);
    plan->labels.push_back(name);
    plan->runs.push_back(std::move(run));
  }
}

constexpr double kMixes[] = {0.0, 0.25, 0.5, 0.75, 1.0};

void PlanWoodworth(const RunConfig& base, const std::set<std::string>& given,
                   StudyPlan* plan) {
  plan->title =
      "Woodworth et al. (2020): Local SGD vs minibatch SGD under "
      "heterogeneity";
  plan->description =
      "Binary logistic regression (Fashion-MNIST classes 0-4 against 5-9, "
      "standardised features) on 25 machines in the paper's pairs "
      "partition: each machine's own data is one original class from 0-4 "
      "and one from 5-9 (every pair once), of which a fraction P is "
      "exchanged for shared IID data (P = 1 homogeneous, P = 0 fully "
      "heterogeneous). Local SGD takes K single-example steps per round; "
      "minibatch SGD one step with the mean of the machines' K-example "
      "gradients: the same computation and communication over the same R "
      "rounds. Each one's step size is tuned per P for the lowest final "
      "loss on the whole training set. The paper expects Local SGD to win "
      "when the machines are alike and minibatch SGD, whose guarantee does "
      "not depend on heterogeneity, to overtake it as they differ.";
  plan->key = KeyMetric::kFinalTrainLoss;
  plan->tune_lr = true;
  RunConfig config = base;
  Preset preset(given, plan);
  preset.Default("--workers", &config.train.workers, 25);
  preset.Default("--dataset", &config.train.dataset,
                 data::DatasetKind::kFashionMnistBinary);
  preset.Default("--model", &config.train.model, std::string("softmax"));
  preset.Default("--standardize", &config.train.standardize, true);
  preset.Default("--batch-size", &config.train.batch_size, 1);
  preset.Default("--local-steps", &config.train.local_steps, 10);
  preset.Default("--momentum", &config.train.momentum, 0.0);
  preset.Default("--nesterov", &config.train.nesterov, false);
  preset.Default("--epochs", &config.train.epochs, 0.0);
  preset.Default("--max-versions", &config.train.max_versions,
                 static_cast<int64_t>(1000));
  preset.Default("--eval-points", &config.simulate.eval_points, 20);
  preset.Default("--target-accuracy", &config.compare.target_accuracy, 0.9);
  plan->target_accuracy = config.compare.target_accuracy;
  preset.Fixed("--partition pairs:P for P in 0, 0.25, 0.5, 0.75, 1");
  preset.Fixed("--algorithms local-sgd,minibatch-sgd");
  const std::vector<double> local_grid = {0.0003, 0.001, 0.003,
                                          0.01,   0.03,  0.1};
  const std::vector<double> minibatch_grid = {0.01, 0.03, 0.1, 0.3, 1.0, 3.0};
  preset.Fixed(
      "--lr tuned per (algorithm, P): local-sgd over {0.0003, 0.001, "
      "0.003, 0.01, 0.03, 0.1}, minibatch-sgd over {0.01, 0.03, 0.1, 0.3, "
      "1, 3}");
  const algo::Algorithm algorithms[] = {algo::Algorithm::kLocalSgd,
                                        algo::Algorithm::kMinibatchSgd};
  for (const algo::Algorithm algorithm : algorithms) {
    plan->labels.emplace_back(algo::AlgorithmName(algorithm));
  }
  std::vector<double> x;
  for (const double mix : kMixes) {
    const std::string setting = "P=" + FormatNumber(mix);
    plan->settings.push_back(setting);
    x.push_back(mix);
    for (const algo::Algorithm algorithm : algorithms) {
      const std::vector<double>& grid =
          algorithm == algo::Algorithm::kLocalSgd ? local_grid : minibatch_grid;
      for (const double lr : grid) {
        RunSpec run{.setting = setting,
                    .label = std::string(algo::AlgorithmName(algorithm)),
                    .config = config};
        UseAlgorithm(&run.config, algorithm, preset.settled());
        run.config.train.partition = "pairs:" + FormatNumber(mix);
        run.config.train.lr = lr;
        plan->runs.push_back(std::move(run));
      }
    }
  }
  plan->trace_settings = {plan->settings.front(), plan->settings.back()};
  plan->notes.push_back(
      "Both algorithms synchronise once per round, so the budget is a "
      "number of rounds (--max-versions): R rounds of K local steps of one "
      "example (Local SGD) or of one step with the mean gradient of the "
      "machines' K examples each (minibatch SGD).");
  plan->sweep_figures = {
      {.file = "woodworth.svg",
       .title = "Final training loss against the shared fraction P",
       .x_label = "P (fraction of shared IID data; 1 = homogeneous)",
       .y_label = "final training loss (tuned step size)",
       .settings = plan->settings,
       .x = x},
      {.file = "woodworth_test_error.svg",
       .metric = SweepMetric::kFinalTestError,
       .title = "Final test error against the shared fraction P",
       .x_label = "P (fraction of shared IID data; 1 = homogeneous)",
       .y_label = "final test error",
       .settings = plan->settings,
       .x = x},
  };
}

constexpr double kOverlapLatencies[] = {0.5, 1.0, 2.0};

void PlanOverlap(const RunConfig& base, const std::set<std::string>& given,
                 StudyPlan* plan) {
  plan->title =
      "Overlap-Local-SGD (Wang, Liang, Joshi 2020) in its reference setting";
  plan->description =
      "The paper's reference setting: 16 workers, non-IID data (Dirichlet "
      "0.5 per class), Nesterov momentum, α = 0.6, β = 0.7. Overlap-Local-"
      "SGD with the paper's synchronous anchor (the anchor of round t+1 is "
      "the mean of every worker's pulled model of round t, updated once a "
      "round with anchor momentum) and with this project's asynchronous one "
      "(the mean of each worker's latest pulled model, updated on every "
      "arrival, momentum once per m arrivals, a staleness bound of 4m "
      "versions, contributions weighted by their staleness in rounds and "
      "replies held for the rest of their round, at most half a round: the "
      "defaults) against Local SGD with the same τ and fully synchronous "
      "minibatch SGD (τ = 1), with no link latency, a one-way latency of 0.5, "
      "1 and 2 rounds of compute (τ local steps), one worker 4× slower, and "
      "every worker 4× slower in a round with probability 0.1. The paper "
      "reports that overlapping hides the communication (its share of "
      "training time falls from 34.6 % for fully synchronous SGD to 1.5 % "
      "at τ = 2) at the same loss per iteration, and that it mitigates "
      "stragglers.";
  plan->tune_lr = true;
  RunConfig config = base;
  Preset preset(given, plan);
  preset.Default("--workers", &config.train.workers, 16);
  preset.Default("--partition", &config.train.partition,
                 std::string("dirichlet:0.5"));
  preset.Default("--model", &config.train.model, std::string("mlp:256,128"));
  preset.Default("--local-steps", &config.train.local_steps, 2);
  preset.Default("--momentum", &config.train.momentum, 0.9);
  preset.Default("--nesterov", &config.train.nesterov, true);
  preset.Default("--epochs", &config.train.epochs, 6.0);
  preset.Default("--decay-epochs", &config.train.decay_epochs,
                 std::vector<double>{3.0, 5.0});
  preset.Default("--eval-points", &config.simulate.eval_points, 30);
  preset.Default("--eval-examples", &config.server.eval_examples,
                 static_cast<int64_t>(0));
  preset.Default("--target-accuracy", &config.compare.target_accuracy, 0.85);
  plan->target_accuracy = config.compare.target_accuracy;
  plan->targets = {0.80, 0.83, plan->target_accuracy};
  const int tau = config.train.local_steps;
  const double round_seconds = tau * config.simulate.step_seconds;
  const std::vector<double> grid = {0.05, 0.1, 0.2, 0.4};
  preset.Fixed("--alpha 0.6 --beta 0.7 for overlap-local-sgd");
  preset.Fixed(
      "--lr tuned per algorithm over {0.05, 0.1, 0.2, 0.4} with no latency "
      "(lowest final training loss, mean over seeds), then used in every "
      "setting");
  preset.Fixed("--link-latency 0, 0.5, 1 and 2 × τ·step = " +
               FormatNumber(round_seconds) + " s; --slowdown 0:4; " +
               "--random-slowdown 0.1:4");
  struct Series {
    std::string label;
    algo::Algorithm algorithm;
    std::optional<algo::AggregationMode> aggregation;
    int local_steps;
  };
  const std::vector<Series> series = {
      {"overlap-local-sgd (paper, sync anchor)",
       algo::Algorithm::kOverlapLocalSgd, algo::AggregationMode::kSync, tau},
      {"overlap-local-sgd async", algo::Algorithm::kOverlapLocalSgd,
       algo::AggregationMode::kAsync, tau},
      {"local-sgd", algo::Algorithm::kLocalSgd, std::nullopt, tau},
      {"minibatch-sgd τ=1", algo::Algorithm::kMinibatchSgd, std::nullopt, 1},
  };
  for (const Series& s : series) {
    plan->labels.push_back(s.label);
  }
  auto make = [&](const Series& s, const std::string& setting) {
    RunSpec run{.setting = setting, .label = s.label, .config = config};
    UseAlgorithm(&run.config, s.algorithm, preset.settled());
    run.config.train.local_steps = s.local_steps;
    if (s.algorithm == algo::Algorithm::kOverlapLocalSgd) {
      run.config.train.alpha = 0.6;
      run.config.train.beta = 0.7;
    }
    if (s.aggregation) run.config.server.aggregation = s.aggregation;
    if (s.aggregation == algo::AggregationMode::kAsync) {
      run.config.server.max_staleness = int64_t{4} * config.train.workers;
    }
    return run;
  };
  const std::string tuning = "no latency";
  plan->tuning_setting = tuning;
  plan->settings.push_back(tuning);
  for (const Series& s : series) {
    for (const double lr : grid) {
      RunSpec run = make(s, tuning);
      run.config.train.lr = lr;
      plan->runs.push_back(std::move(run));
    }
  }
  auto add_setting = [&](const std::string& setting, double latency,
                         const std::string& slowdown,
                         const std::string& random_slowdown) {
    plan->settings.push_back(setting);
    for (const Series& s : series) {
      RunSpec run = make(s, setting);
      run.tuned_lr = true;
      run.config.worker.link_latency_seconds = latency;
      run.config.worker.slowdown = slowdown;
      run.config.simulate.random_slowdown = random_slowdown;
      plan->runs.push_back(std::move(run));
    }
  };
  for (const double multiple : kOverlapLatencies) {
    add_setting("latency " + FormatNumber(multiple) + "×",
                multiple * round_seconds, "", "");
  }
  add_setting("one worker 4× slower", 0, "0:4", "");
  add_setting("random 4× stragglers (p = 0.1)", 0, "", "0.1:4");
  plan->notes.push_back(
      "Latency is one-way, per message; \"latency 1×\" means the one-way "
      "latency equals τ local steps of compute (" +
      FormatNumber(round_seconds) +
      " virtual s), so a round trip takes two rounds of compute. minibatch-"
      "sgd τ=1 sends a gradient every step, so its rounds are τ times "
      "shorter and it meets the same latency in seconds τ times as often.");
  plan->notes.push_back(
      "Time blocked is the share of a run's time its workers spent waiting "
      "at sync points (the paper's communication share of training time).");
  plan->sweep_figures = {
      {.file = "overlap_time_to_target.svg",
       .bars = true,
       .metric = SweepMetric::kTimeToTarget,
       .title = "Virtual time to " + FormatNumber(plan->target_accuracy) +
                " test accuracy (mean over seeds)",
       .x_label = "setting",
       .y_label = "seconds to target (virtual)",
       .settings = plan->settings},
      {.file = "overlap_time_blocked.svg",
       .bars = true,
       .metric = SweepMetric::kSyncWait,
       .title = "Time blocked at sync points per worker",
       .x_label = "setting",
       .y_label = "sync wait per worker (virtual s)",
       .settings = plan->settings},
  };
  plan->trace_settings = {tuning, "latency 1×", "one worker 4× slower"};
}

constexpr double kSlowMoBetas[] = {0.5, 0.7};

void PlanSlowMo(const RunConfig& base, const std::set<std::string>& given,
                StudyPlan* plan) {
  plan->title = "SlowMo (Wang et al. 2020) vs Local SGD";
  plan->description =
      "Local SGD and SlowMo with α = 1 and β in {0.5, 0.7} run the same "
      "number of local steps with the same τ and communicate the same "
      "bytes; SlowMo only adds a slow momentum step on the averaged model "
      "at each synchronisation (and, for an SGD base, zeroes the local "
      "momentum buffer there). The paper reports a lower training loss and "
      "a higher accuracy than Local SGD at no extra communication. A "
      "SlowMo run with β = 0 is Local SGD with the local momentum reset at "
      "every average; it separates the effect of the slow momentum from "
      "that of the reset.";
  plan->key = KeyMetric::kFinalTrainLoss;
  RunConfig config = base;
  Preset preset(given, plan);
  preset.Default("--workers", &config.train.workers, 8);
  preset.Default("--model", &config.train.model, std::string("mlp:256,128"));
  preset.Default("--local-steps", &config.train.local_steps, 12);
  preset.Default("--epochs", &config.train.epochs, 5.0);
  preset.Default("--eval-points", &config.simulate.eval_points, 30);
  preset.Default("--eval-examples", &config.server.eval_examples,
                 static_cast<int64_t>(0));
  preset.Default("--target-accuracy", &config.compare.target_accuracy, 0.86);
  preset.Fixed(
      "--algorithms local-sgd,slowmo; slowmo --alpha 1 --beta "
      "0, 0.5, 0.7");
  plan->target_accuracy = config.compare.target_accuracy;
  const std::string setting = "τ=" + std::to_string(config.train.local_steps);
  plan->settings = {setting};
  RunSpec local{.setting = setting, .label = "local-sgd", .config = config};
  UseAlgorithm(&local.config, algo::Algorithm::kLocalSgd, preset.settled());
  plan->labels.push_back(local.label);
  plan->runs.push_back(std::move(local));
  for (const double beta : {0.0, kSlowMoBetas[0], kSlowMoBetas[1]}) {
    RunSpec run{.setting = setting,
                .label = "slowmo β=" + FormatNumber(beta),
                .config = config};
    UseAlgorithm(&run.config, algo::Algorithm::kSlowMo, preset.settled());
    run.config.train.alpha = 1.0;
    run.config.train.beta = beta;
    plan->labels.push_back(run.label);
    plan->runs.push_back(std::move(run));
  }
  plan->trace_figures.push_back({.file = "slowmo_train_loss.svg",
                                 .title = "Training loss: SlowMo vs Local SGD",
                                 .x = TraceAxis::kExamples,
                                 .y = TraceAxis::kTrainLoss});
}

// One codec setting of the compression study.
struct CodecVariant {
  std::string label;
  std::string codec;
  int bits = 4;
  double bit_budget = 0;
  double topk = 0.01;
};

// The setting both codec studies share, so the quantization study's runs
// are the compression study's with other codecs: 8 workers, the MLP,
// 5 epochs, 20 evaluations on the whole test set, a target of 0.85.
void CodecStudyDefaults(Preset* preset, RunConfig* config) {
  preset->Default("--workers", &config->train.workers, 8);
  preset->Default("--model", &config->train.model, std::string("mlp:256,128"));
  preset->Default("--epochs", &config->train.epochs, 5.0);
  preset->Default("--eval-points", &config->simulate.eval_points, 20);
  preset->Default("--eval-examples", &config->server.eval_examples,
                  static_cast<int64_t>(0));
  preset->Default("--target-accuracy", &config->compare.target_accuracy, 0.85);
}

void PlanCompression(const RunConfig& base, const std::set<std::string>& given,
                     StudyPlan* plan) {
  plan->title = "Communication compression: accuracy against bytes";
  plan->description =
      "The same workers, data, seed and number of gradient evaluations; "
      "only the codec of the pushes changes. Minibatch SGD (one gradient per "
      "worker per round, the setting of the compression papers) unless "
      "--algorithms names another method, whose pseudo-gradient is then "
      "compressed. The papers report: 2-bit QSGD loses accuracy; DQ-SGD "
      "matches 6-bit QSGD with 20-25 % fewer bits; Sketched SGD reaches the "
      "uncompressed accuracy at 20-40x less communication.";
  RunConfig config = base;
  Preset preset(given, plan);
  CodecStudyDefaults(&preset, &config);
  const algo::Algorithm algorithm = given.count("--algorithms") > 0
                                        ? base.compare.algorithms.front()
                                        : algo::Algorithm::kMinibatchSgd;
  const std::string name(algo::AlgorithmName(algorithm));
  UseAlgorithm(&config, algorithm, preset.settled());
  // One gradient a round for minibatch SGD, τ = 8 for the local methods.
  preset.Default("--local-steps", &config.train.local_steps,
                 algorithm == algo::Algorithm::kMinibatchSgd ? 1 : 8);
  // Every codec in the mode the sketches need, so the runs compare.
  config.server.aggregation = algo::AggregationMode::kSync;
  preset.Fixed("--algorithm " + name + " --aggregation sync");
  preset.Fixed(
      "--codec dense, fp16, qsgd --bits 2/4/6, dqsgd --bit-budget 4.5, "
      "topk --topk 0.01/0.001, sketch --topk 0.01/0.002/0.001, fetchsgd "
      "--topk 0.002");
  plan->target_accuracy = config.compare.target_accuracy;
  const std::vector<CodecVariant> variants = {
      {.label = "dense", .codec = "dense"},
      {.label = "fp16", .codec = "fp16"},
      {.label = "qsgd 2-bit", .codec = "qsgd", .bits = 2},
      {.label = "qsgd 4-bit", .codec = "qsgd", .bits = 4},
      {.label = "qsgd 6-bit", .codec = "qsgd", .bits = 6},
      {.label = "dqsgd 4.5-bit budget", .codec = "dqsgd", .bit_budget = 4.5},
      {.label = "topk 1%", .codec = "topk", .topk = 0.01},
      {.label = "topk 0.1%", .codec = "topk", .topk = 0.001},
      {.label = "sketch k=1%", .codec = "sketch", .topk = 0.01},
      {.label = "sketch k=0.2%", .codec = "sketch", .topk = 0.002},
      {.label = "sketch k=0.1%", .codec = "sketch", .topk = 0.001},
      {.label = "fetchsgd k=0.2%", .codec = "fetchsgd", .topk = 0.002},
  };
  const std::string setting =
      std::to_string(config.train.workers) + " workers, " + name;
  plan->settings = {setting};
  for (const CodecVariant& variant : variants) {
    RunSpec run{.setting = setting, .label = variant.label, .config = config};
    run.config.train.codec = variant.codec;
    // Where the momentum lives follows the codec (FetchSGD keeps minibatch
    // SGD's on the server, in sketch space).
    config::ApplyDependentDefaults(preset.settled(), &run.config);
    codec::CodecOptions& options = run.config.codec_options;
    options.bits = variant.bits;
    options.bit_budget = variant.bit_budget;
    options.topk_fraction = variant.topk;
    plan->labels.push_back(variant.label);
    plan->runs.push_back(std::move(run));
  }
  const std::string& anchors = config.server.anchor_codec;
  plan->notes.push_back(
      "MB up counts every byte the workers sent, envelopes and the second "
      "round of sketch included; anchors come down as " +
      (anchors == "dense" ? std::string("dense float32") : anchors) +
      " for every codec.");
}

void PlanQuantization(const RunConfig& base, const std::set<std::string>& given,
                      StudyPlan* plan) {
  plan->title = "QSGD and DQ-SGD: accuracy against the bits spent";
  plan->description =
      "Minibatch SGD (one gradient per worker per round, the setting of the "
      "quantisation papers) on 8 workers with QSGD at 3 to 8 bits per "
      "coordinate and DQ-SGD at budgets of 3 to 6 bits, each bucket of "
      "values quantised against its own norm, beside uncompressed pushes. "
      "DQ-SGD (Yan et al. 2021) reports 6-bit QSGD's accuracy with 22-25 % "
      "fewer bits (CIFAR-10 ResNet-18: 87.93 % at 7.11x against 88.03 % "
      "at 5.33x), and QSGD at 2 bits losing about 14 points.";
  RunConfig config = base;
  Preset preset(given, plan);
  CodecStudyDefaults(&preset, &config);
  plan->target_accuracy = config.compare.target_accuracy;
  UseAlgorithm(&config, algo::Algorithm::kMinibatchSgd, preset.settled());
  preset.Default("--local-steps", &config.train.local_steps, 1);
  config.server.aggregation = algo::AggregationMode::kSync;
  preset.Fixed("--algorithm minibatch-sgd --aggregation sync");
  preset.Fixed(
      "--codec qsgd --bits 3..8; --codec dqsgd --bit-budget 3, 3.5, ..., 6 "
      "(the nonconvex rule); --codec dense");
  plan->show_bits = true;
  plan->labels = {"qsgd", "dqsgd", "dense"};
  const double bits[] = {3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 8};
  for (const double b : bits) {
    const std::string setting = FormatNumber(b) + " bits";
    plan->settings.push_back(setting);
    if (b == std::floor(b)) {
      RunSpec run{.setting = setting, .label = "qsgd", .config = config};
      run.config.train.codec = "qsgd";
      run.config.codec_options.bits = static_cast<int>(b);
      plan->runs.push_back(std::move(run));
    }
    if (b <= 6) {
      RunSpec run{.setting = setting, .label = "dqsgd", .config = config};
      run.config.train.codec = "dqsgd";
      run.config.codec_options.bit_budget = b;
      plan->runs.push_back(std::move(run));
    }
  }
  plan->settings.emplace_back("32 bits");
  RunSpec dense{.setting = "32 bits", .label = "dense", .config = config};
  dense.config.train.codec = "dense";
  plan->runs.push_back(std::move(dense));
  std::vector<std::string> quantized(plan->settings.begin(),
                                     plan->settings.end() - 1);
  plan->sweep_figures = {
      {.file = "accuracy_vs_bits.svg",
       .metric = SweepMetric::kFinalTestAccuracy,
       .title = "Final test accuracy against the bits per coordinate spent",
       .x_label = "mean bits per coordinate",
       .y_label = "final test accuracy (mean of seeds)",
       .settings = quantized,
       .x_metric = SweepMetric::kMeanBits},
  };
  plan->trace_settings = {"4 bits", "6 bits", "32 bits"};
  plan->notes.push_back(
      "Bits per coordinate are the mean over every worker's pushes of the "
      "bits a coordinate's level took (qsgd: --bits; dqsgd: what its rule "
      "chose, adapted to land on the budget); the bucket norms add 32/512 "
      "of a bit per coordinate on top, counted in the bytes.");
}

// One series of the sketch study: a codec and, for the count sketches,
// the columns per applied coordinate.
struct SketchVariant {
  std::string label;
  std::string codec;
  int64_t columns_per_k = 0;
};

// The worker counts of the sweep, and its budget as a fraction of part A's
// (2 of 20 epochs).
constexpr int kSweepWorkers[] = {8, 32, 128, 256};
constexpr double kSweepBudget = 0.1;

void PlanSketch(const RunConfig& base, const std::set<std::string>& given,
                StudyPlan* plan) {
  plan->title =
      "Sketched SGD (Ivkin et al. 2019) and FetchSGD (Rothchild et al. "
      "2020) in the paper's terms";
  plan->description =
      "Minibatch SGD (one gradient per worker per round, sync rounds) on "
      "Fashion-MNIST with the MLP; only the codec of the pushes changes. "
      "Part A (8 workers): dense, local top-k, Sketched SGD with an exact "
      "global top-k (global-topk: the sketch's ideal), Sketched SGD with "
      "10 and 20 sketch columns per applied coordinate, and FetchSGD with "
      "10, 20 and 40, each run's compression shown both as upload only and "
      "as the paper's 2d / (r c + P k + k), which counts both directions. "
      "Part B (m = 8 to 256 workers): local top-k against Sketched SGD at "
      "a fixed global batch (each worker's batch is the global one over "
      "m, as in the paper's setting of W workers splitting a minibatch of "
      "B), so the runs train alike and only the traffic changes: a top-k "
      "worker sends k values whatever m is, but every worker must then "
      "receive the union of all m top-k sets, while a sketch round applies "
      "k coordinates at most. The paper reports 40x less communication "
      "with no loss of BLEU on WMT'14, 17x at 92.5 % on CIFAR-10, and "
      "constant per-worker traffic up to 256 workers, where local top-k "
      "falls to about 2x.";
  plan->columns = ResultsColumns::kTraffic;
  RunConfig config = base;
  Preset preset(given, plan);
  preset.Default("--workers", &config.train.workers, 8);
  preset.Default("--model", &config.train.model, std::string("mlp:256,128"));
  preset.Default("--epochs", &config.train.epochs, 20.0);
  preset.Default("--eval-points", &config.simulate.eval_points, 20);
  preset.Default("--eval-examples", &config.server.eval_examples,
                 static_cast<int64_t>(0));
  preset.Default("--target-accuracy", &config.compare.target_accuracy, 0.85);
  preset.Default("--topk", &config.codec_options.topk_fraction, 0.002);
  preset.Default("--sketch-momentum", &config.codec_options.sketch_momentum,
                 0.9);
  preset.Default("--sketch-candidates", &config.codec_options.sketch_candidates,
                 4);
  preset.Default("--sketch-rows", &config.codec_options.sketch_rows, 5);
  plan->target_accuracy = config.compare.target_accuracy;
  plan->targets = {plan->target_accuracy, 0.87};
  config.train.algorithm = algo::Algorithm::kMinibatchSgd;
  config.train.local_steps = 1;
  config.server.aggregation = algo::AggregationMode::kSync;
  const double rho = config.codec_options.sketch_momentum;
  const std::string k_text =
      FormatNumber(100 * config.codec_options.topk_fraction) + "%";
  preset.Fixed("--algorithm minibatch-sgd --local-steps 1 --aggregation sync");
  preset.Fixed(
      "momentum ρ = " + FormatNumber(rho) +
      " (--sketch-momentum) everywhere, where the paper and its code keep "
      "it: dense on the server (--momentum ρ, the same algorithm for a "
      "dense sum); topk, global-topk and sketch on the workers "
      "(--sketch-momentum ρ --momentum 0, stopped where sent or applied); "
      "fetchsgd on the server in sketch space (--sketch-momentum ρ "
      "--momentum 0)");
  preset.Fixed(
      "--codec dense, topk, global-topk, sketch --sketch-columns-per-k 10/20, "
      "fetchsgd --sketch-columns-per-k 10/20/40");

  const std::vector<SketchVariant> variants = {
      {.label = "dense", .codec = "dense"},
      {.label = "topk " + k_text, .codec = "topk"},
      {.label = "global-topk " + k_text, .codec = "global-topk"},
      {.label = "sketch " + k_text + " ×10",
       .codec = "sketch",
       .columns_per_k = 10},
      {.label = "sketch " + k_text + " ×20",
       .codec = "sketch",
       .columns_per_k = 20},
      {.label = "fetchsgd " + k_text + " ×10",
       .codec = "fetchsgd",
       .columns_per_k = 10},
      {.label = "fetchsgd " + k_text + " ×20",
       .codec = "fetchsgd",
       .columns_per_k = 20},
      {.label = "fetchsgd " + k_text + " ×40",
       .codec = "fetchsgd",
       .columns_per_k = 40},
  };
  for (const SketchVariant& variant : variants) {
    plan->labels.push_back(variant.label);
  }
  auto make = [&](const SketchVariant& variant, const std::string& setting) {
    RunSpec run{.setting = setting, .label = variant.label, .config = config};
    run.config.train.codec = variant.codec;
    run.config.codec_options.sketch_columns = 0;
    run.config.codec_options.sketch_columns_per_k = variant.columns_per_k;
    run.config.train.momentum = variant.codec == "dense" ? rho : 0.0;
    return run;
  };
  const std::string part_a = std::to_string(config.train.workers) +
                             " workers, " + FormatNumber(config.train.epochs) +
                             " epochs";
  plan->settings.push_back(part_a);
  for (const SketchVariant& variant : variants) {
    plan->runs.push_back(make(variant, part_a));
  }

  // Part B: local top-k against the sketch at 10 columns per applied
  // coordinate, as m grows at a fixed global batch.
  const int global_batch = config.train.workers * config.train.batch_size;
  const double sweep_epochs = kSweepBudget * config.train.epochs;
  const SketchVariant& topk = variants[1];
  const SketchVariant& sketch = variants[3];
  std::vector<std::string> sweep;
  std::vector<double> x;
  for (const int m : kSweepWorkers) {
    const std::string setting = "m = " + std::to_string(m);
    plan->settings.push_back(setting);
    sweep.push_back(setting);
    x.push_back(m);
    for (const SketchVariant* variant : {&topk, &sketch}) {
      RunSpec run = make(*variant, setting);
      run.config.train.workers = m;
      run.config.train.batch_size = std::max(1, global_batch / m);
      run.config.train.epochs = sweep_epochs;
      run.config.simulate.eval_points = 10;
      plan->runs.push_back(std::move(run));
    }
  }
  preset.Fixed("worker sweep: --workers 8, 32, 128, 256 with --batch-size " +
               std::to_string(global_batch) + "/m (a global batch of " +
               std::to_string(global_batch) + "), --epochs " +
               FormatNumber(sweep_epochs) +
               " (a tenth of part A's), "
               "--eval-points 10, for " +
               topk.label + " and " + sketch.label);
  plan->trace_settings = {part_a};
  // Rounds on Fashion-MNIST's 60,000 training examples.
  const auto rounds = [global_batch](double epochs) {
    return std::to_string(std::lround(epochs * 60000.0 / global_batch));
  };
  std::string batches;
  for (const int m : kSweepWorkers) {
    batches += (batches.empty() ? "" : ", ") +
               std::to_string(std::max(1, global_batch / m));
  }
  plan->notes.push_back(
      "Settings of the paper and its code: r = 5 rows (the paper's usual "
      "choice, the default of both official codes); P = 4 candidates per "
      "applied coordinate in Sketched SGD's second round (p2 = 4 in "
      "dhroth/sketchedsgd's example); momentum ρ = 0.9 on the workers with "
      "the momentum stopped where a round applied (sketchedsgd keeps u and "
      "v per worker and zeroes both at the nonzero coordinates of the "
      "update, momentum-factor masking); FetchSGD with its momentum in "
      "sketch space on the server (kiddyboots216/CommEfficient's "
      "virtual_momentum 0.9 with local_momentum 0) and the cells of the "
      "applied coordinates zeroed, 10 columns per applied coordinate in that "
      "code's defaults (500,000 for k = 50,000) and 20 and 40 here to show "
      "what width buys. Local top-k keeps the same worker momentum, stopped "
      "where it sent (sketchedsgd's localTopk), and global-topk is "
      "sketchedsgd's trueTopk, with the workers' u and v (the same as the "
      "official FetchSGD code's server-side one for a sum). Every sparse "
      "codec runs with no server momentum, so that the coordinates a round "
      "changes are its update: the union of the workers' top-k sets, or "
      "the k a sketch round applies.");
  plan->notes.push_back(
      "Budget: part A runs " + FormatNumber(config.train.epochs) + " epochs (" +
      rounds(config.train.epochs) + " rounds of " +
      std::to_string(global_batch) +
      " examples on Fashion-MNIST): epochs rather than equal updates per "
      "coordinate, which at k = 0.2 % would take 500 times the rounds of "
      "dense. Part B runs " +
      FormatNumber(sweep_epochs) + " epochs (" + rounds(sweep_epochs) +
      " rounds) at the same global batch: m = 8, 32, 128, 256 workers take " +
      batches +
      " examples per step, so every m computes the same examples in the "
      "same rounds (the paper's W workers splitting a minibatch of B) and "
      "only the traffic grows with m. Measured on the 2-core "
      "development machine: a 20-epoch run takes 2-3 minutes and a "
      "2-epoch run at m = 256 about 6 (every worker's push is encoded and "
      "decoded for real, 120,000 pushes), about 130 CPU-minutes in all "
      "with --seeds 1,2,3, so about 65 minutes on 2 free cores with --jobs "
      "2.");
  plan->sweep_figures = {
      {.file = "sketch_workers_traffic.svg",
       .metric = SweepMetric::kSparseTrafficPerWorkerRound,
       .title = "Bytes per worker per round: up, plus a sparse downlink of "
                "the coordinates each round changed",
       .x_label =
           "workers m (global batch " + std::to_string(global_batch) + ")",
       .y_label = "bytes per worker per round (log scale)",
       .settings = sweep,
       .x = x,
       .log_x = true,
       .log_y = true,
       .labels = {topk.label, sketch.label}},
      {.file = "sketch_workers_test_error.svg",
       .metric = SweepMetric::kFinalTestError,
       .title = "Final test error after " + FormatNumber(sweep_epochs) +
                " epochs against the number of workers",
       .x_label =
           "workers m (global batch " + std::to_string(global_batch) + ")",
       .y_label = "final test error",
       .settings = sweep,
       .x = x,
       .log_x = true,
       .labels = {topk.label, sketch.label}},
  };
}

}  // namespace

StudyPlan PlanStudy(const config::RunConfig& base,
                    const std::set<std::string>& given) {
  StudyPlan plan;
  plan.study = base.compare.study;
  plan.target_accuracy = base.compare.target_accuracy;
  switch (plan.study) {
    case config::Study::kCustom:
      PlanCustom(base, given, &plan);
      break;
    case config::Study::kWoodworth:
      PlanWoodworth(base, given, &plan);
      break;
    case config::Study::kOverlap:
      PlanOverlap(base, given, &plan);
      break;
    case config::Study::kSlowMo:
      PlanSlowMo(base, given, &plan);
      break;
    case config::Study::kCompression:
      PlanCompression(base, given, &plan);
      break;
    case config::Study::kQuantization:
      PlanQuantization(base, given, &plan);
      break;
    case config::Study::kSketch:
      PlanSketch(base, given, &plan);
      break;
  }
  std::vector<TraceFigure> figures = StandardFigures();
  figures.insert(figures.end(), plan.trace_figures.begin(),
                 plan.trace_figures.end());
  plan.trace_figures = std::move(figures);
  if (plan.targets.empty()) plan.targets = {plan.target_accuracy};
  plan.seeds = base.compare.seeds;
  if (plan.seeds.empty()) plan.seeds = {base.train.seed};
  if (!base.compare.seeds.empty()) {
    std::vector<RunSpec> seeded;
    seeded.reserve(plan.runs.size() * plan.seeds.size());
    for (const RunSpec& run : plan.runs) {
      for (const uint64_t seed : plan.seeds) {
        seeded.push_back(run);
        seeded.back().config.train.seed = seed;
      }
    }
    plan.runs = std::move(seeded);
  }
  return plan;
}

}  // namespace anchorage::compare
