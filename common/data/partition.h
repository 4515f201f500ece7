// Partitions of a training set across workers: IID shards, or label-skewed
// shards drawn from a Dirichlet distribution per class (Hsu et al. 2019, the
// setting of the Overlap-Local-SGD experiments).
//
// Thread-safety: free functions without shared state; safe to call
// concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"

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

// Builds the partition named by `spec`: "iid" or "dirichlet:A" with A > 0
// (for example "dirichlet:0.5"). Returns kInvalidArgument naming `spec` when
// it is malformed, and the errors of PartitionIid / PartitionDirichlet.
StatusOr<Partition> MakePartition(const std::string& spec,
                                  std::span<const int32_t> labels,
                                  int num_classes, int num_workers,
                                  uint64_t seed);

// Returns kInvalidArgument naming `spec` if it is not a valid partition spec;
// used to validate configuration before any data is loaded.
Status ValidatePartitionSpec(const std::string& spec);

}  // namespace anchorage::data
