#include "common/data/partition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/base/seed.h"

namespace anchorage::data {
namespace {

constexpr std::string_view kDirichletPrefix = "dirichlet:";
constexpr std::string_view kMixPrefix = "mix:";
constexpr std::string_view kPairsPrefix = "pairs:";

// Distinct stream tags keep the IID, Dirichlet and mixing shuffles unrelated
// to other generators seeded with the same seed.
constexpr uint64_t kIidStream = 101;
constexpr uint64_t kDirichletStream = 102;
constexpr uint64_t kMixStream = 103;
constexpr uint64_t kPairsStream = 104;

// A parsed partition spec: the kind and, for Dirichlet and mix, its number.
struct PartitionSpec {
  enum class Kind { kIid, kDirichlet, kMix, kPairs };
  Kind kind = Kind::kIid;
  double parameter = 0.0;
};

// Parses the whole of `text` as a finite number; empty when anything else
// (leading space, trailing characters, inf, nan, overflow) is there.
std::optional<double> ParseNumber(std::string_view text) {
  double value = 0.0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() ||
      end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

StatusOr<PartitionSpec> ParseSpec(const std::string& spec) {
  using Kind = PartitionSpec::Kind;
  if (spec == "iid") return PartitionSpec{};
  const std::string_view view(spec);
  if (view.starts_with(kDirichletPrefix)) {
    const std::optional<double> alpha =
        ParseNumber(view.substr(kDirichletPrefix.size()));
    if (alpha.has_value() && *alpha > 0.0) {
      return PartitionSpec{Kind::kDirichlet, *alpha};
    }
  }
  for (const auto& [prefix, kind] : {std::pair{kMixPrefix, Kind::kMix},
                                     std::pair{kPairsPrefix, Kind::kPairs}}) {
    if (!view.starts_with(prefix)) continue;
    const std::optional<double> fraction =
        ParseNumber(view.substr(prefix.size()));
    if (fraction.has_value() && *fraction >= 0.0 && *fraction <= 1.0) {
      return PartitionSpec{kind, *fraction};
    }
  }
  return Status::InvalidArgument(
      "invalid partition spec \"" + spec +
      "\": expected \"iid\", \"dirichlet:A\" with a number A > 0 (e.g. "
      "\"dirichlet:0.5\"), or \"mix:P\" or \"pairs:P\" with a number P in "
      "[0, 1] (e.g. \"mix:0.25\")");
}

Status CheckNumWorkers(int num_workers, int64_t num_examples) {
  if (num_workers < 1 || num_workers > num_examples) {
    return Status::InvalidArgument("number of workers must be in [1, " +
                                   std::to_string(num_examples) +
                                   "] (the number of training examples), got " +
                                   std::to_string(num_workers));
  }
  return Status::Ok();
}

// Splits `indices` (in their current order) into `num_workers` consecutive
// pieces whose sizes differ by at most one.
Partition SplitEvenly(const std::vector<int64_t>& indices, int num_workers) {
  const auto total = static_cast<int64_t>(indices.size());
  const int64_t base = total / num_workers;
  const int64_t extra = total % num_workers;
  Partition partition(static_cast<size_t>(num_workers));
  auto begin = indices.begin();
  for (int w = 0; w < num_workers; ++w) {
    const int64_t size = base + (w < extra ? 1 : 0);
    partition[static_cast<size_t>(w)].assign(begin, begin + size);
    begin += size;
  }
  return partition;
}

// Draws q ~ Dir(alpha * 1_m) as normalized Gamma(alpha, 1) draws. For tiny
// alpha every draw can underflow to zero; the limit of Dir(alpha) as alpha
// goes to 0 puts all mass on one coordinate, so that is what we return.
std::vector<double> DrawDirichlet(int num_workers, double alpha,
                                  std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  std::vector<double> q(static_cast<size_t>(num_workers));
  double sum = 0.0;
  for (double& value : q) {
    value = gamma(rng);
    sum += value;
  }
  if (!(sum > 0.0) || !std::isfinite(sum)) {
    std::uniform_int_distribution<int> pick(0, num_workers - 1);
    std::fill(q.begin(), q.end(), 0.0);
    q[static_cast<size_t>(pick(rng))] = 1.0;
    return q;
  }
  for (double& value : q) {
    value /= sum;
  }
  return q;
}

// Gives every empty shard one example from the largest shard (lowest worker
// id on ties), taking that shard's last example. Terminates because there
// are at least as many examples as shards, so while one shard is empty the
// largest holds at least two.
void FillEmptyShards(Partition* partition) {
  for (auto& shard : *partition) {
    if (!shard.empty()) continue;
    auto largest = std::max_element(
        partition->begin(), partition->end(),
        [](const auto& a, const auto& b) { return a.size() < b.size(); });
    shard.push_back(largest->back());
    largest->pop_back();
  }
}

void SortShards(Partition* partition) {
  for (auto& shard : *partition) {
    std::sort(shard.begin(), shard.end());
  }
}

Status CheckLabels(std::span<const int32_t> labels, int num_classes) {
  if (num_classes < 1) {
    return Status::InvalidArgument("num_classes must be >= 1, got " +
                                   std::to_string(num_classes));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return Status::InvalidArgument("label " + std::to_string(labels[i]) +
                                     " at index " + std::to_string(i) +
                                     " is outside [0, " +
                                     std::to_string(num_classes) + ")");
    }
  }
  return Status::Ok();
}

// Every shard gives a random `mix_fraction` of itself to a pool, which is
// shuffled and dealt back so that each shard gets as many as it gave; then
// the shards are sorted. Taking the same fraction of every shard makes the
// pool a stratified sample of the whole training set, so its label
// distribution is the global one.
void MixBlocks(double mix_fraction, std::mt19937_64& rng,
               Partition* partition) {
  std::vector<int64_t> pool;
  std::vector<size_t> given(partition->size());
  for (size_t w = 0; w < partition->size(); ++w) {
    std::vector<int64_t>& shard = (*partition)[w];
    std::shuffle(shard.begin(), shard.end(), rng);
    given[w] = static_cast<size_t>(
        std::llround(mix_fraction * static_cast<double>(shard.size())));
    const auto keep = static_cast<ptrdiff_t>(shard.size() - given[w]);
    pool.insert(pool.end(), shard.begin() + keep, shard.end());
    shard.resize(static_cast<size_t>(keep));
  }
  std::shuffle(pool.begin(), pool.end(), rng);
  auto next = pool.begin();
  for (size_t w = 0; w < partition->size(); ++w) {
    const auto count = static_cast<ptrdiff_t>(given[w]);
    (*partition)[w].insert((*partition)[w].end(), next, next + count);
    next += count;
  }
  SortShards(partition);
}

}  // namespace

StatusOr<Partition> PartitionIid(int64_t num_examples, int num_workers,
                                 uint64_t seed) {
  const Status status = CheckNumWorkers(num_workers, num_examples);
  if (!status.ok()) return status;
  std::vector<int64_t> order(static_cast<size_t>(num_examples));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 rng(MixSeed(seed, kIidStream));
  std::shuffle(order.begin(), order.end(), rng);
  Partition partition = SplitEvenly(order, num_workers);
  SortShards(&partition);
  return partition;
}

StatusOr<Partition> PartitionDirichlet(std::span<const int32_t> labels,
                                       int num_classes, int num_workers,
                                       double alpha, uint64_t seed) {
  const auto num_examples = static_cast<int64_t>(labels.size());
  Status status = CheckNumWorkers(num_workers, num_examples);
  if (!status.ok()) return status;
  if (!std::isfinite(alpha) || !(alpha > 0.0)) {
    return Status::InvalidArgument(
        "Dirichlet alpha must be finite and > 0, got " + std::to_string(alpha));
  }
  status = CheckLabels(labels, num_classes);
  if (!status.ok()) return status;

  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < num_examples; ++i) {
    by_class[static_cast<size_t>(labels[static_cast<size_t>(i)])].push_back(i);
  }

  std::mt19937_64 rng(MixSeed(seed, kDirichletStream));
  Partition partition(static_cast<size_t>(num_workers));
  for (std::vector<int64_t>& members : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    const std::vector<double> q = DrawDirichlet(num_workers, alpha, rng);
    // Worker w gets members [floor(c_{w-1} n), floor(c_w n)), where c is the
    // cumulative sum of q, as in Hsu et al.'s reference split.
    const auto count = static_cast<double>(members.size());
    double cumulative = 0.0;
    size_t begin = 0;
    for (int w = 0; w < num_workers; ++w) {
      cumulative += q[static_cast<size_t>(w)];
      size_t end = w + 1 == num_workers
                       ? members.size()
                       : static_cast<size_t>(std::floor(cumulative * count));
      end = std::clamp(end, begin, members.size());
      auto& shard = partition[static_cast<size_t>(w)];
      shard.insert(shard.end(), members.begin() + static_cast<ptrdiff_t>(begin),
                   members.begin() + static_cast<ptrdiff_t>(end));
      begin = end;
    }
  }
  SortShards(&partition);
  FillEmptyShards(&partition);
  SortShards(&partition);
  return partition;
}

StatusOr<Partition> PartitionMix(std::span<const int32_t> labels,
                                 int num_classes, int num_workers,
                                 double mix_fraction, uint64_t seed) {
  const auto num_examples = static_cast<int64_t>(labels.size());
  Status status = CheckNumWorkers(num_workers, num_examples);
  if (!status.ok()) return status;
  if (!(mix_fraction >= 0.0 && mix_fraction <= 1.0)) {
    return Status::InvalidArgument("mixing fraction must be in [0, 1], got " +
                                   std::to_string(mix_fraction));
  }
  status = CheckLabels(labels, num_classes);
  if (!status.ok()) return status;

  // Sort by label; the shuffle first makes the order within a label, and so
  // which examples of a label straddling two blocks go where, seeded.
  std::mt19937_64 rng(MixSeed(seed, kMixStream));
  std::vector<int64_t> order(static_cast<size_t>(num_examples));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return labels[static_cast<size_t>(a)] < labels[static_cast<size_t>(b)];
  });
  Partition partition = SplitEvenly(order, num_workers);

  MixBlocks(mix_fraction, rng, &partition);
  return partition;
}

StatusOr<Partition> PartitionPairs(std::span<const int32_t> classes,
                                   int num_classes, int num_workers,
                                   double mix_fraction, uint64_t seed) {
  const auto num_examples = static_cast<int64_t>(classes.size());
  Status status = CheckNumWorkers(num_workers, num_examples);
  if (!status.ok()) return status;
  const int half = num_classes / 2;
  if (num_classes < 2 || num_classes % 2 != 0 || num_workers < half) {
    return Status::InvalidArgument(
        "the pairs partition needs an even number of classes and at least "
        "half as many workers, so that every class is held (" +
        std::to_string(num_classes) + " classes, " +
        std::to_string(num_workers) + " workers)");
  }
  if (!(mix_fraction >= 0.0 && mix_fraction <= 1.0)) {
    return Status::InvalidArgument("mixing fraction must be in [0, 1], got " +
                                   std::to_string(mix_fraction));
  }
  status = CheckLabels(classes, num_classes);
  if (!status.ok()) return status;
  // Worker w holds class w mod h and class h + (w div h + w) mod h, h half
  // the classes: h^2 workers hold every pair once, and from h workers on
  // every class has a holder.
  std::vector<std::vector<int>> holders(static_cast<size_t>(num_classes));
  for (int w = 0; w < num_workers; ++w) {
    const int first = w % half;
    const int second = half + (w / half + w) % half;
    holders[static_cast<size_t>(first)].push_back(w);
    holders[static_cast<size_t>(second)].push_back(w);
  }
  std::mt19937_64 rng(MixSeed(seed, kPairsStream));
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < num_examples; ++i) {
    by_class[static_cast<size_t>(classes[static_cast<size_t>(i)])].push_back(i);
  }
  Partition partition(static_cast<size_t>(num_workers));
  for (size_t c = 0; c < by_class.size(); ++c) {
    std::vector<int64_t>& members = by_class[c];
    std::shuffle(members.begin(), members.end(), rng);
    const Partition dealt =
        SplitEvenly(members, static_cast<int>(holders[c].size()));
    for (size_t h = 0; h < dealt.size(); ++h) {
      std::vector<int64_t>& shard =
          partition[static_cast<size_t>(holders[c][h])];
      shard.insert(shard.end(), dealt[h].begin(), dealt[h].end());
    }
  }
  MixBlocks(mix_fraction, rng, &partition);
  FillEmptyShards(&partition);
  SortShards(&partition);
  return partition;
}

StatusOr<Partition> MakePartition(const std::string& spec, const Dataset& train,
                                  int num_workers, uint64_t seed) {
  using Kind = PartitionSpec::Kind;
  StatusOr<PartitionSpec> parsed = ParseSpec(spec);
  if (!parsed.ok()) return parsed.status();
  const std::span<const int32_t> labels = train.labels;
  switch (parsed->kind) {
    case Kind::kIid:
      return PartitionIid(static_cast<int64_t>(labels.size()), num_workers,
                          seed);
    case Kind::kDirichlet:
      return PartitionDirichlet(labels, train.num_classes, num_workers,
                                parsed->parameter, seed);
    case Kind::kMix:
      return PartitionMix(labels, train.num_classes, num_workers,
                          parsed->parameter, seed);
    case Kind::kPairs:
      if (!train.source_labels.empty()) {
        return PartitionPairs(train.source_labels, train.source_classes,
                              num_workers, parsed->parameter, seed);
      }
      return PartitionPairs(labels, train.num_classes, num_workers,
                            parsed->parameter, seed);
  }
  return Status::Internal("unhandled partition kind for spec \"" + spec + "\"");
}

Status ValidatePartitionSpec(const std::string& spec) {
  return ParseSpec(spec).status();
}

}  // namespace anchorage::data
