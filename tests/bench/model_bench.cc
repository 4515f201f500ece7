// Training-step throughput of the models workers run: one LossAndGradient and
// one Sgd::Step per iteration, reported as samples per second per thread
// (items_per_second). BM_SoftmaxStep on the same inputs is the baseline the
// MLP is read against.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/base/check.h"
#include "common/model/model.h"
#include "common/optim/sgd.h"
#include "common/tensor/tensor.h"

namespace anchorage::model {
namespace {

constexpr int64_t kInputDim = 784;  // MNIST-sized inputs
constexpr int kNumClasses = 10;

void RunTrainingSteps(benchmark::State& state, const std::string& spec) {
  const auto batch = static_cast<Eigen::Index>(state.range(0));
  StatusOr<std::unique_ptr<Model>> made =
      MakeModel(spec, kInputDim, kNumClasses);
  ANCHORAGE_CHECK(made.ok(), "benchmark model spec");
  Model& model = **made;

  std::mt19937_64 random(42);
  std::uniform_real_distribution<float> pixel(0.0F, 1.0F);
  std::uniform_int_distribution<int32_t> label(0, kNumClasses - 1);
  RowMatrix x(batch, kInputDim);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = pixel(random);
  }
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  for (int32_t& l : labels) {
    l = label(random);
  }

  std::vector<float> params(static_cast<size_t>(model.dim()));
  std::vector<float> grad(params.size());
  model.Initialize(1, params);
  optim::SgdOptions options;
  options.lr = 0.01F;
  options.momentum = 0.9F;
  optim::Sgd sgd(options, model.dim());

  for (auto _ : state) {
    const float loss = model.LossAndGradient(params, x, labels, grad);
    benchmark::DoNotOptimize(loss);
    sgd.Step(params, grad);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["params"] = static_cast<double>(model.dim());
}

void BM_MlpStep(benchmark::State& state) {
  RunTrainingSteps(state, "mlp:256,128");
}
BENCHMARK(BM_MlpStep)->Arg(64)->Arg(32)->Arg(128);

void BM_SoftmaxStep(benchmark::State& state) {
  RunTrainingSteps(state, "softmax");
}
BENCHMARK(BM_SoftmaxStep)->Arg(64)->Arg(32)->Arg(128);

}  // namespace
}  // namespace anchorage::model
