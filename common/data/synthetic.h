// Synthetic classification datasets for tests and quick experiments. All
// randomness derives from the `seed` argument, so a seed names a dataset.
//
// Thread-safety: free functions without shared state; safe to call
// concurrently.
#pragma once

#include <cstdint>

#include "common/base/status.h"
#include "common/data/dataset.h"

namespace anchorage::data {

// Returns a mixture of `num_classes` isotropic Gaussians in `dim` dimensions:
// class means are drawn once from the seed, and each example is its class
// mean plus unit-variance noise. Classes are balanced (sizes differ by at
// most one) and examples are in random order. The means are spread so the
// classes overlap: for 10 classes in 32 dimensions the best linear classifier
// is right 85-93% of the time, depending on the seed. Returns kInvalidArgument
// unless num_classes >= 2, dim >= 1, train_size >= 1 and test_size >= 0.
StatusOr<TrainTest> MakeGaussianMixture(int num_classes, int dim,
                                        int64_t train_size, int64_t test_size,
                                        uint64_t seed);

// Returns a binary dataset (num_classes = 2): features are standard normal in
// `dim` dimensions, the label is 1 when a random unit-norm teacher vector has
// a positive inner product with the features and 0 otherwise, and each label
// is then flipped with probability `label_noise`. Returns kInvalidArgument
// unless dim >= 1, train_size >= 1, test_size >= 0 and
// 0 <= label_noise < 0.5.
StatusOr<TrainTest> MakeLogistic(int dim, int64_t train_size, int64_t test_size,
                                 double label_noise, uint64_t seed);

}  // namespace anchorage::data
