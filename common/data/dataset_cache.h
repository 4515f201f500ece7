// The decoded dataset cache: a dataset read from files (Fashion-MNIST,
// gzip'd IDX), decoded once and kept as one binary file of pixel bytes and
// int32 labels that later loads memory-map instead of decompressing the
// source again. A worker reads only its shard's rows and decodes each
// pixel with PixelFeature, so the features are bit-identical to the
// decoded source's; the page cache holds one copy of the file, a quarter
// of the float32 features' size, for every process on the machine.
//
// The file is <cache dir>/<dataset>-<16 hex digits>.ancdata, the digits a
// hash of its key: the format, the dataset's name and, for each source
// file, its absolute path, size and modification time (nanoseconds). A
// source file replaced or touched gives another key, and so another file;
// one that changes in place keeping its size and modification time is not
// noticed (delete the cache file then).
//
// Format, little-endian, each section starting at a multiple of 64 bytes:
//   header  u32 magic "ANCD", u32 format (2), u64 file size, the key (u64
//           length and bytes), u64 train rows, u64 test rows, u64 features
//           per row, u32 classes, u32 source classes (0: no source labels),
//           u32 CRC-32 of the file from the train labels to its end (the
//           label, standardisation and row-checksum sections), u32 CRC-32
//           of the header bytes before it;
//   sections: train features, test features (a byte per feature,
//           row-major: the feature is the byte / 255), train labels, test
//           labels, train and test source labels (int32; only with source
//           classes), the training split's standardisation
//           (data::Standardization: float64 means, float32 scales), and the
//           CRC-32 of every feature row's bytes, train rows then test rows.
// Opening checks the header, the size, the key, the labels' ranges and the
// checksum of the small sections; every feature row read is checked
// against its own CRC-32, so a torn or corrupt file is refused and no
// process reads more rows than it uses. Consecutive rows are read with one
// system call. The file is written by io::WriteFileAtomically under a
// unique temporary name and renamed into place, without fsync
// (io::Durability::kAtomicOnly): concurrent writers leave one whole file,
// and what a crash of the machine could leave is refused by these checks.
// Writing a cache removes the files an older build left beside it in an
// older format, which this build never reads.
//
// Thread-safety: DatasetCache is read-only after Open; concurrent reads
// are safe. The free functions share no state.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/base/status.h"
#include "common/data/dataset.h"
#include "common/io/file.h"

namespace anchorage::data {

// Whether `kind` is read from files and so has a cache (the synthetic sets
// are generated from the seed faster than a cache would load).
bool IsCacheable(DatasetKind kind);

// Where the cache of one dataset lives and what it is made from.
struct CacheSource {
  std::string path;  // <cache dir>/<dataset>-<hash>.ancdata
  std::string key;   // the dataset and its source files, as above
};

// The cache of `kind` read from `data_dir` (empty: the installed default)
// in `cache_dir`. Reads the source files' metadata only. Returns the
// loader's kNotFound naming a missing source file, and kInvalidArgument
// for a kind that is not cacheable.
StatusOr<CacheSource> DescribeCacheSource(DatasetKind kind,
                                          const std::string& data_dir,
                                          const std::string& cache_dir);

// Writes `data`, as LoadDataset returned it (not standardised), as the
// cache `source`, creating the cache directory when missing. Returns
// kUnavailable naming the path when it cannot be written (the previous
// file, if any, is then untouched), and kInvalidArgument when a feature
// is not the PixelFeature of a byte. Once written, the cache files an
// older build left in the same directory in an older format are removed.
Status WriteDatasetCache(const CacheSource& source, const TrainTest& data);

// Where each section of a cache file starts (byte offsets), and its end.
struct CacheLayout {
  uint64_t train_features = 0;
  uint64_t test_features = 0;
  uint64_t train_labels = 0;
  uint64_t test_labels = 0;
  uint64_t train_source = 0;
  uint64_t test_source = 0;
  uint64_t mean = 0;
  uint64_t scale = 0;
  uint64_t row_crcs = 0;
  uint64_t end = 0;
};

// An open cache file.
class DatasetCache {
 public:
  // Maps and checks the cache `source`. Returns kNotFound when there is no
  // such file, kFailedPrecondition naming the path when it was made from
  // other source files, and kDataLoss naming the path when it is not a
  // cache of this format, is truncated or too long, or fails a check.
  static StatusOr<DatasetCache> Open(const CacheSource& source);

  int64_t train_size() const { return static_cast<int64_t>(train_rows_); }
  int64_t test_size() const { return static_cast<int64_t>(test_rows_); }
  int64_t dim() const { return static_cast<int64_t>(dim_); }

  // The training split without its features (no rows): its labels, classes
  // and source labels, which is what a partition reads.
  Dataset TrainLabels() const;
  // The standardisation of the training split's features
  // (ComputeStandardization of them).
  Standardization standardization() const;
  // Rows `rows` of the training split, in that order, with their labels.
  // Returns kDataLoss naming the path and the row when a row fails its
  // checksum, kInvalidArgument for a row out of range.
  StatusOr<Dataset> TrainRows(std::span<const int64_t> rows) const;
  // The test split whole; errors as TrainRows.
  StatusOr<Dataset> Test() const;
  // Both splits whole, as LoadDataset returns them; errors as TrainRows.
  StatusOr<TrainTest> LoadAll() const;

 private:
  enum class Split { kTrain, kTest };

  explicit DatasetCache(io::MappedFile file) : file_(std::move(file)) {}
  Status Check(const CacheSource& source);
  // Rows `rows` of `split`, into a fresh Dataset.
  StatusOr<Dataset> Rows(Split split, std::span<const int64_t> rows) const;
  // Checks row `row` of `split`, read as `pixels`, against its checksum
  // and decodes it with its labels into row `i` of `out`.
  Status DecodeRow(Split split, uint64_t row, const uint8_t* pixels, size_t i,
                   Dataset* out) const;
  StatusOr<Dataset> All(Split split) const;
  const uint8_t* At(uint64_t offset) const {
    return file_.bytes().data() + offset;
  }

  io::MappedFile file_;
  uint64_t train_rows_ = 0;
  uint64_t test_rows_ = 0;
  uint64_t dim_ = 0;
  int num_classes_ = 0;
  int source_classes_ = 0;
  CacheLayout sections_;
};

}  // namespace anchorage::data
