// Partitions of a training set across workers: IID shards, label-skewed
// shards drawn from a Dirichlet distribution per class (Hsu et al. 2019, the
// setting of the Overlap-Local-SGD experiments), or shards mixing a fraction
// of shared IID data with label-sorted "own" data (Woodworth et al. 2020's
// heterogeneity knob).
//
// Thread-safety: free functions without shared state; safe to call
// concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/data/dataset.h"

namespace anchorage::data {

// For each worker, the row indices of the training set it holds, sorted
// ascending. Together the shards cover every row exactly once.
using Partition = std::vector<std::vector<int64_t>>;

// Shuffles 0..num_examples-1 with `seed` and splits the result into
// `num_workers` shards whose sizes differ by at most one. Returns
// kInvalidArgument unless 1 <= num_workers <= num_examples.
StatusOr<Partition> PartitionIid(int64_t num_examples, int num_workers,
                                 uint64_t seed);

// For each class, draws proportions q ~ Dir(alpha * 1_m) over the m workers
// and splits that class's examples (in seeded random order) among them in
// those proportions. A worker left empty by the draws receives one example
// from the currently largest shard, so every worker holds at least one.
// Small alpha gives very skewed label distributions per worker; large alpha
// approaches IID. Returns kInvalidArgument unless 1 <= num_workers <=
// labels.size(), alpha is finite and > 0, and every label is in
// [0, num_classes).
StatusOr<Partition> PartitionDirichlet(std::span<const int32_t> labels,
                                       int num_classes, int num_workers,
                                       double alpha, uint64_t seed);

// Woodworth et al. (2020)'s mixing partition. Each worker's "own" data is
// block i of the training set sorted by label (ties broken by a seeded
// shuffle) and cut into `num_workers` contiguous blocks whose sizes differ by
// at most one; when every label has at least as many examples as a block
// (balanced labels and num_workers >= num_classes, say), a block holds one or
// two labels. A fraction `mix_fraction` of every block, chosen at random, goes
// into a shared pool, which is shuffled and dealt back so that each worker
// gets as many pool examples as it gave. Worker i's shard is thus about
// (1 - mix_fraction) of its own block plus mix_fraction of the shard drawn
// uniformly from the whole training set. mix_fraction = 1 is IID,
// mix_fraction = 0 gives every worker exactly its block. Shard sizes equal
// the block sizes, so they differ by at most one. Returns kInvalidArgument
// unless 1 <= num_workers <= labels.size(), mix_fraction is in [0, 1], and
// every label is in [0, num_classes).
StatusOr<Partition> PartitionMix(std::span<const int32_t> labels,
                                 int num_classes, int num_workers,
                                 double mix_fraction, uint64_t seed);

// Woodworth et al.'s pairs partition for a binary task folded from an even
// number of classes (fashion-mnist-binary: 0-4 against 5-9): with h half
// the classes, worker w's own data is two classes, w mod h from the first
// half and h + (w div h + w) mod h from the second, each class dealt evenly
// among the workers that hold it; 25 workers over ten classes hold every
// pair once. Then, as in PartitionMix, a fraction `mix_fraction` of every
// shard is pooled and dealt back (1 = IID). `classes` are the finer classes
// in [0, num_classes). Returns kInvalidArgument unless num_classes is even,
// h <= num_workers <= classes.size(), mix_fraction is in [0, 1], and every
// class is in range.
StatusOr<Partition> PartitionPairs(std::span<const int32_t> classes,
                                   int num_classes, int num_workers,
                                   double mix_fraction, uint64_t seed);

// Builds the partition of `train` named by `spec`: "iid", "dirichlet:A"
// with A > 0 (for example "dirichlet:0.5"), "mix:P" or "pairs:P" with P in
// [0, 1] (for example "mix:0.25"; pairs split by the dataset's source
// classes when it has them). Returns kInvalidArgument naming `spec` when it
// is malformed, and the errors of the partition functions.
StatusOr<Partition> MakePartition(const std::string& spec, const Dataset& train,
                                  int num_workers, uint64_t seed);

// Returns kInvalidArgument naming `spec` if it is not a valid partition spec;
// used to validate configuration before any data is loaded.
Status ValidatePartitionSpec(const std::string& spec);

}  // namespace anchorage::data
