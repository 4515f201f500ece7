// What share of a worker's round compression takes: τ = 8 training steps of
// the demo's MLP (784-256-128-10, 235,146 parameters) at batch 32, then the
// push of a local method (the pseudo-gradient base − x, through the codec),
// as the worker's compute thread runs them. Each codec's summary line gives
// the encode time as a fraction of the round and of one step. Thread CPU
// time, as in codec_bench.cc.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/algo/push_codec.h"
#include "common/base/check.h"
#include "common/codec/codec.h"
#include "common/model/model.h"
#include "common/optim/sgd.h"
#include "common/tensor/tensor.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

constexpr int kLocalSteps = 8;
constexpr Eigen::Index kBatch = 32;

double ThreadSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Variant {
  std::string label;
  std::string codec;
  double topk = 0.01;
};

void BM_RoundShare(benchmark::State& state, const Variant& variant) {
  std::unique_ptr<model::Model> model =
      model::MakeModel("mlp:256,128", 784, 10).value();
  std::mt19937_64 random(42);
  std::uniform_real_distribution<float> pixel(0.0F, 1.0F);
  RowMatrix x(kBatch, 784);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = pixel(random);
  }
  std::vector<int32_t> labels(static_cast<size_t>(kBatch));
  for (size_t i = 0; i < labels.size(); ++i) {
    labels[i] = static_cast<int32_t>(i % 10);
  }
  std::vector<float> base(static_cast<size_t>(model->dim()));
  model->Initialize(1, base);
  std::vector<float> params = base;
  std::vector<float> grad(params.size());
  optim::SgdOptions options;
  options.lr = 0.01F;
  options.momentum = 0.9F;
  optim::Sgd sgd(options, model->dim());
  codec::CodecOptions codec_options;
  codec_options.topk_fraction = variant.topk;
  algo::PushEncoder encoder(
      algo::Algorithm::kLocalSgd,
      codec::MakeCodec(variant.codec, model->dim(), codec_options).value());
  std::vector<uint8_t> bytes;

  double step_seconds = 0;
  double encode_seconds = 0;
  for ([[maybe_unused]] auto _ : state) {
    const double start = ThreadSeconds();
    for (int step = 0; step < kLocalSteps; ++step) {
      benchmark::DoNotOptimize(model->LossAndGradient(params, x, labels, grad));
      sgd.Step(params, grad);
    }
    const double computed = ThreadSeconds();
    ANCHORAGE_CHECK(encoder.Encode(base, params, &bytes).ok(), "encode");
    benchmark::DoNotOptimize(bytes.data());
    encode_seconds += ThreadSeconds() - computed;
    step_seconds += computed - start;
  }
  const double rounds = static_cast<double>(state.iterations());
  const double share = encode_seconds / (encode_seconds + step_seconds);
  state.counters["encode_share"] = share;
  char line[200];
  std::snprintf(line, sizeof(line),
                "round share %-16s encode %6.3f ms = %4.1f %% of a round of "
                "%d steps, %5.2f x one step",
                variant.label.c_str(), 1e3 * encode_seconds / rounds,
                100.0 * share, kLocalSteps,
                encode_seconds / (step_seconds / kLocalSteps));
  bench::AddSummaryLine(line);
}

const Variant kVariants[] = {
    {"dense", "dense"},
    {"fp16", "fp16"},
    {"qsgd (4 bits)", "qsgd"},
    {"dqsgd", "dqsgd"},
    {"topk 1%", "topk"},
    {"sketch k=1%", "sketch"},
    {"sketch k=0.2%", "sketch", 0.002},
    {"fetchsgd k=0.2%", "fetchsgd", 0.002},
};

[[maybe_unused]] const bool kRegistered = [] {
  for (const Variant& variant : kVariants) {
    benchmark::RegisterBenchmark(("BM_RoundShare/" + variant.label).c_str(),
                                 BM_RoundShare, variant)
        ->Iterations(40);
  }
  return true;
}();

}  // namespace
}  // namespace anchorage
