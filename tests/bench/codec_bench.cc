// Codec throughput against memcpy, in one run.
//
// BM_Memcpy copies the 4 MB of a d = 10^6 float32 vector: the least any
// codec must do to turn a tensor into a payload. BM_Encode and BM_Decode run
// each codec on a Gaussian vector of the same d; all three report bytes of
// float32 (4 d per call) per second, so the rates compare directly. At the
// end of the run, one summary line per codec gives its encode and decode
// rates as a multiple of memcpy's and its message size.
//
// Each benchmark runs a fixed number of iterations so that it is called once
// and can record its own rate for the summary. Rates use the thread's CPU
// time (as Google Benchmark's own columns do), which other load on a shared
// machine disturbs less than wall time; every benchmark is single-threaded.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/base/check.h"
#include "common/codec/codec.h"
#include "tests/bench/bench_summary.h"

namespace anchorage {
namespace {

constexpr int64_t kDim = 1'000'000;
constexpr size_t kFloatBytes = kDim * sizeof(float);

// BM_Memcpy's rate, bytes per second; 0 until it has run.
double& MemcpyRate() {
  static double rate = 0;
  return rate;
}

struct Rates {
  double encode = 0;  // float32 bytes per second
  double decode = 0;
  size_t message_bytes = 0;
};
std::map<std::string, Rates>& AllRates() {
  static std::map<std::string, Rates> rates;
  return rates;
}

std::vector<float> Gradient() {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0F, 1.0F);
  std::vector<float> values(static_cast<size_t>(kDim));
  for (float& value : values) {
    value = normal(rng) * 1e-3F;
  }
  return values;
}

// A codec to benchmark: `label` names it in the output.
struct Spec {
  std::string label;
  std::string name;
  codec::CodecOptions options;
};

Spec Plain(const std::string& name) {
  return {name, name, {}};
}

Spec Qsgd(int bits) {
  Spec spec{"qsgd B=" + std::to_string(bits), "qsgd", {}};
  spec.options.bits = bits;
  return spec;
}

Spec Dqsgd() {
  Spec spec{"dqsgd (nonconvex, 4-bit budget)", "dqsgd", {}};
  spec.options.bit_budget = 4;
  return spec;
}

Spec TopK() {
  Spec spec{"topk 1%", "topk", {}};
  spec.options.topk_fraction = 0.01;
  return spec;
}

// Sketched SGD and FetchSGD: r = 5 rows of c = d / 40 columns (a 500 KB
// message, 8x smaller than dense), k = d / 1000 and, for sketch, P = 4
// candidates per applied coordinate and no momentum.
Spec Sketched(const std::string& name) {
  Spec spec{name + " r=5 c=d/40 k=d/1000", name, {}};
  spec.options.sketch_rows = 5;
  spec.options.sketch_columns = kDim / 40;
  spec.options.topk_fraction = 0.001;
  spec.options.sketch_candidates = 4;
  spec.options.sketch_momentum = 0;
  return spec;
}

std::unique_ptr<codec::Codec> Make(const Spec& spec) {
  StatusOr<std::unique_ptr<codec::Codec>> made =
      codec::MakeCodec(spec.name, kDim, spec.options);
  ANCHORAGE_CHECK(made.ok(), "MakeCodec");
  return std::move(*made);
}

// CPU seconds used by this thread so far.
double ThreadSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) * 1e-9;
}

void BM_Memcpy(benchmark::State& state) {
  const std::vector<float> source = Gradient();
  std::vector<float> target(source.size());
  const double start = ThreadSeconds();
  for ([[maybe_unused]] auto _ : state) {
    std::memcpy(target.data(), source.data(), kFloatBytes);
    benchmark::DoNotOptimize(target.data());
    benchmark::ClobberMemory();
  }
  const double seconds = ThreadSeconds() - start;
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(kFloatBytes));
  MemcpyRate() =
      static_cast<double>(state.iterations()) * kFloatBytes / seconds;
}

void BM_Encode(benchmark::State& state, const Spec& spec) {
  const std::unique_ptr<codec::Codec> codec = Make(spec);
  const std::vector<float> values = Gradient();
  std::vector<uint8_t> bytes;
  ANCHORAGE_CHECK(codec->Encode(values, &bytes).ok(), "warm-up encode");
  const double start = ThreadSeconds();
  for ([[maybe_unused]] auto _ : state) {
    const Status status = codec->Encode(values, &bytes);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(bytes.data());
  }
  const double seconds = ThreadSeconds() - start;
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(kFloatBytes));
  state.counters["message_bytes"] = static_cast<double>(bytes.size());
  Rates& rates = AllRates()[spec.label];
  rates.encode =
      static_cast<double>(state.iterations()) * kFloatBytes / seconds;
  rates.message_bytes = bytes.size();
}

void BM_Decode(benchmark::State& state, const Spec& spec) {
  const std::unique_ptr<codec::Codec> codec = Make(spec);
  std::vector<uint8_t> bytes;
  ANCHORAGE_CHECK(codec->Encode(Gradient(), &bytes).ok(), "encode");
  std::vector<float> decoded(static_cast<size_t>(kDim));
  const double start = ThreadSeconds();
  for ([[maybe_unused]] auto _ : state) {
    const Status status = codec->Decode(bytes, decoded);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(decoded.data());
    benchmark::ClobberMemory();
  }
  const double seconds = ThreadSeconds() - start;
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(kFloatBytes));
  Rates& rates = AllRates()[spec.label];
  rates.decode =
      static_cast<double>(state.iterations()) * kFloatBytes / seconds;

  // Decode runs after its codec's encode: the codec's summary line is done.
  const auto ratio = [](double rate) {
    return MemcpyRate() > 0 ? rate / MemcpyRate() : 0.0;
  };
  char line[256];
  std::snprintf(
      line, sizeof(line),
      "codec %-34s encode %6.2f GB/s = %5.3f x memcpy, decode "
      "%6.2f GB/s = %5.3f x memcpy; %zu -> %zu bytes (%.1fx)",
      (spec.label + ",").c_str(), rates.encode / 1e9, ratio(rates.encode),
      rates.decode / 1e9, ratio(rates.decode), kFloatBytes, rates.message_bytes,
      rates.message_bytes > 0 ? static_cast<double>(kFloatBytes) /
                                    static_cast<double>(rates.message_bytes)
                              : 0.0);
  bench::AddSummaryLine(line);
}

struct Case {
  const char* id;
  Spec spec;
  int64_t encode_iterations;
  int64_t decode_iterations;
};

// Registers BM_Memcpy first, then each codec's encode and decode, in the
// order they run. Iterations are fixed (see the file comment); each run
// takes about 0.1 to 1 s on a 2-core cloud VM.
const bool kRegistered = [] {
  benchmark::RegisterBenchmark("BM_Memcpy", BM_Memcpy)
      ->Iterations(2000)
      ->Unit(benchmark::kMicrosecond);
  const Case cases[] = {
      {"dense", Plain("dense"), 1000, 1000},
      {"fp16", Plain("fp16"), 1000, 1000},
      {"bf16", Plain("bf16"), 1000, 1000},
      {"qsgd_b2", Qsgd(2), 300, 500},
      {"qsgd_b4", Qsgd(4), 300, 500},
      {"qsgd_b6", Qsgd(6), 300, 500},
      {"dqsgd", Dqsgd(), 300, 500},
      {"topk_1pct", TopK(), 200, 3000},
      {"sketch", Sketched("sketch"), 100, 100},
      {"fetchsgd", Sketched("fetchsgd"), 100, 100},
  };
  for (const Case& c : cases) {
    benchmark::RegisterBenchmark(
        ("BM_Encode/" + std::string(c.id)).c_str(),
        [spec = c.spec](benchmark::State& state) { BM_Encode(state, spec); })
        ->Iterations(c.encode_iterations)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(
        ("BM_Decode/" + std::string(c.id)).c_str(),
        [spec = c.spec](benchmark::State& state) { BM_Decode(state, spec); })
        ->Iterations(c.decode_iterations)
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
}  // namespace anchorage
