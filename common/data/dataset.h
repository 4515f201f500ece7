// An in-memory classification dataset (features and integer labels) and the
// loader that maps a dataset name from the configuration to its train and
// test splits.
//
// Thread-safety: plain values; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/enum_names.h"
#include "common/base/status.h"
#include "common/tensor/tensor.h"

namespace anchorage::data {

// One split of a classification dataset: row i of `features` is example i and
// `labels[i]` is its class.
struct Dataset {
  RowMatrix features;           // n x dim, float32 (images scaled to [0,1])
  std::vector<int32_t> labels;  // n labels in [0, num_classes)
  int num_classes = 0;
  // The finer classes the labels were folded from (fashion-mnist-binary:
  // the ten original ones), which a partition may split the data by; empty
  // when the labels are the classes.
  std::vector<int32_t> source_labels;
  int source_classes = 0;

  // Returns the number of examples (rows of `features`).
  int64_t size() const;
  // Returns the number of features per example (columns of `features`).
  int64_t dim() const;
};

// Rows `rows` of `dataset` (each in [0, dataset.size())), in that order,
// with their labels and source labels and the same classes.
Dataset SelectRows(const Dataset& dataset, std::span<const int64_t> rows);

struct TrainTest {
  Dataset train;
  Dataset test;
};

// The datasets LoadDataset knows.
enum class DatasetKind {
  kFashionMnist,
  kFashionMnistBinary,
  kSyntheticGaussian,
  kSyntheticLogistic,
};

// Their names on the command line and in summaries.
inline constexpr EnumName<DatasetKind> kDatasetNames[] = {
    {DatasetKind::kFashionMnist, "fashion-mnist"},
    {DatasetKind::kFashionMnistBinary, "fashion-mnist-binary"},
    {DatasetKind::kSyntheticGaussian, "synthetic-gaussian"},
    {DatasetKind::kSyntheticLogistic, "synthetic-logistic"},
};

constexpr std::string_view DatasetName(DatasetKind kind) {
  return NameOf(kDatasetNames, kind);
}

// Loads the dataset `kind`:
//   "fashion-mnist": the IDX files in `data_dir` (empty `data_dir` means
//     /usr/share/datasets/fashion-mnist); see LoadFashionMnist.
//   "fashion-mnist-binary": the same files with the classes folded into two,
//     num_classes = 2: label 0 for original classes 0-4 (t-shirt, trouser,
//     pullover, dress, coat) and 1 for classes 5-9 (sandal, shirt, sneaker,
//     bag, ankle boot). Both labels hold half of each split. This is the
//     binary logistic-regression task of Woodworth et al. (2020)'s study.
//   "synthetic-gaussian": a Gaussian mixture, 10 classes, dim 32, 20000 train
//     and 4000 test examples; a linear model reaches roughly 0.8-0.95 test
//     accuracy.
//   "synthetic-logistic": binary labels from a random linear teacher with 10%
//     label noise, dim 20, 10000 train and 2000 test examples.
// Synthetic data derives from `seed` only; `data_dir` is ignored for them.
// Returns the loader's error (a missing or malformed file).
StatusOr<TrainTest> LoadDataset(DatasetKind kind, const std::string& data_dir,
                                uint64_t seed);

// The shift and scale that standardise each feature: x -> (x - mean) *
// scale, computed in double and rounded to float.
struct Standardization {
  std::vector<double> mean;  // one per feature
  std::vector<float> scale;  // 1 / standard deviation; 1 for a constant
};

// The mean and scale of every column of `train` (the training split's
// features), in two passes in double.
Standardization ComputeStandardization(const RowMatrix& train);

// Standardises the rows of `features` with `standardization`, which must
// have one entry per column.
void ApplyStandardization(const Standardization& standardization,
                          RowMatrix* features);

// Standardises every feature to mean 0 and variance 1 over the training
// split, and applies the same shift and scale to the test split (a feature
// constant in training is only centred).
void Standardize(TrainTest* data);

}  // namespace anchorage::data
