#include "common/data/dataset_cache.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/base/bytes.h"
#include "common/base/format.h"
#include "common/base/heap.h"
#include "common/data/idx_reader.h"

namespace anchorage::data {
namespace {

constexpr uint32_t kMagic = 0x44434e41;  // "ANCD"
constexpr uint32_t kFormat = 2;
constexpr uint64_t kAlignment = 64;
constexpr const char* kSuffix = ".ancdata";
// Bounds on what a header may claim, far above any dataset here, so the
// section sizes cannot overflow.
constexpr uint64_t kMaxRows = uint64_t{1} << 32;
constexpr uint64_t kMaxDim = uint64_t{1} << 24;
constexpr uint64_t kMaxClasses = uint64_t{1} << 16;
constexpr size_t kMaxKeyBytes = size_t{1} << 16;
// The most bytes of consecutive rows one read takes.
constexpr uint64_t kReadBytes = uint64_t{1} << 20;

uint64_t Align(uint64_t offset) {
  return (offset + kAlignment - 1) / kAlignment * kAlignment;
}

uint32_t Crc32(uint32_t crc, const void* data, uint64_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  uLong value = crc;
  while (size > 0) {
    const auto piece =
        static_cast<uInt>(std::min<uint64_t>(size, uint64_t{1} << 30));
    value = crc32(value, bytes, piece);
    bytes += piece;
    size -= piece;
  }
  return static_cast<uint32_t>(value);
}

uint32_t Crc32(const void* data, uint64_t size) {
  return Crc32(static_cast<uint32_t>(crc32(0L, Z_NULL, 0)), data, size);
}

// 64-bit FNV-1a: a stable hash of the key for the file's name.
uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string Hex64(uint64_t value) {
  std::array<char, 20> text{};
  std::snprintf(text.data(), text.size(), "%016llx",
                static_cast<unsigned long long>(value));
  return text.data();
}

// The sizes a header describes, and where each section starts.
struct Shape {
  uint64_t train_rows = 0;
  uint64_t test_rows = 0;
  uint64_t dim = 0;
  bool source = false;
};

CacheLayout Layout(uint64_t header_bytes, const Shape& shape) {
  CacheLayout s;
  const uint64_t row_bytes = shape.dim;  // a byte per feature
  const uint64_t source_rows = shape.source ? 1 : 0;
  s.train_features = Align(header_bytes);
  s.test_features = Align(s.train_features + shape.train_rows * row_bytes);
  s.train_labels = Align(s.test_features + shape.test_rows * row_bytes);
  s.test_labels = Align(s.train_labels + shape.train_rows * sizeof(int32_t));
  s.train_source = Align(s.test_labels + shape.test_rows * sizeof(int32_t));
  s.test_source =
      Align(s.train_source + source_rows * shape.train_rows * sizeof(int32_t));
  s.mean =
      Align(s.test_source + source_rows * shape.test_rows * sizeof(int32_t));
  s.scale = Align(s.mean + shape.dim * sizeof(double));
  s.row_crcs = Align(s.scale + shape.dim * sizeof(float));
  s.end = s.row_crcs + (shape.train_rows + shape.test_rows) * sizeof(uint32_t);
  return s;
}

std::string_view Bytes(const void* data, uint64_t size) {
  return {static_cast<const char*>(data), static_cast<size_t>(size)};
}

// The pixel bytes of `features`, row-major, into `pixels`. False when a
// feature is not the PixelFeature of a byte, so cannot be cached exactly.
bool EncodePixels(const RowMatrix& features, std::vector<uint8_t>* pixels) {
  pixels->resize(static_cast<size_t>(features.size()));
  const float* in = features.data();
  for (size_t i = 0; i < pixels->size(); ++i) {
    const float feature = in[i];
    if (!(feature >= 0.0F && feature <= 1.0F)) return false;
    const auto pixel = static_cast<uint8_t>(std::lround(feature * 255.0F));
    if (PixelFeature(pixel) != feature) return false;
    (*pixels)[i] = pixel;
  }
  return true;
}

// One line of the key per source file.
StatusOr<std::string> DescribeFile(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::canonical(path, error);
  if (error) absolute = std::filesystem::absolute(path, error);
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return Status::NotFound("cannot open " + path + ": " + ErrnoText(errno));
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
      info.st_mtim.tv_nsec;
  return absolute.string() + " " + std::to_string(info.st_size) +
         " bytes, modified " + std::to_string(mtime_ns) + " ns\n";
}

// The first line where two keys differ, for the error message.
std::string FirstDifference(std::string_view expected, std::string_view found) {
  while (!expected.empty() || !found.empty()) {
    const size_t a = expected.find('\n');
    const size_t b = found.find('\n');
    const std::string_view line_a = expected.substr(0, a);
    const std::string_view line_b = found.substr(0, b);
    if (line_a != line_b) {
      return "made from \"" + std::string(line_b) + "\", not \"" +
             std::string(line_a) + "\"";
    }
    expected.remove_prefix(a == std::string_view::npos ? expected.size()
                                                       : a + 1);
    found.remove_prefix(b == std::string_view::npos ? found.size() : b + 1);
  }
  return "made from other source files";
}

// Removes the cache files in `dir` that an older build wrote in an older
// format: this build never reads them, and their keys differ from every
// key it makes, so nothing else would. A file of this format or a newer
// one, or any file that is not a cache, is left alone; so is one that
// cannot be read or removed. A process that still has one open keeps
// reading it after the unlink.
void RemoveOlderFormats(const std::filesystem::path& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() != kSuffix) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::array<uint8_t, 2 * sizeof(uint32_t)> head{};
    if (!in.read(reinterpret_cast<char*>(head.data()), head.size())) continue;
    ByteReader reader(head);
    const uint32_t magic = reader.U32();
    const uint32_t format = reader.U32();
    if (magic == kMagic && format < kFormat) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

}  // namespace

bool IsCacheable(DatasetKind kind) {
  return kind == DatasetKind::kFashionMnist ||
         kind == DatasetKind::kFashionMnistBinary;
}

StatusOr<CacheSource> DescribeCacheSource(DatasetKind kind,
                                          const std::string& data_dir,
                                          const std::string& cache_dir) {
  if (!IsCacheable(kind)) {
    return Status::InvalidArgument("the dataset " +
                                   std::string(DatasetName(kind)) +
                                   " is generated, not read from files: it "
                                   "has no cache");
  }
  StatusOr<std::vector<std::string>> files = FashionMnistFiles(data_dir);
  if (!files.ok()) return files.status();
  std::string key = "anchorage dataset cache (format " +
                    std::to_string(kFormat) + ") of " +
                    std::string(DatasetName(kind)) + " from\n";
  for (const std::string& file : *files) {
    StatusOr<std::string> line = DescribeFile(file);
    if (!line.ok()) return line.status();
    key += *line;
  }
  const std::string name =
      std::string(DatasetName(kind)) + "-" + Hex64(Fnv1a(key)) + kSuffix;
  return CacheSource{.path = (std::filesystem::path(cache_dir) / name).string(),
                     .key = std::move(key)};
}

Status WriteDatasetCache(const CacheSource& source, const TrainTest& data) {
  const Dataset& train = data.train;
  const Dataset& test = data.test;
  const Shape shape{.train_rows = static_cast<uint64_t>(train.size()),
                    .test_rows = static_cast<uint64_t>(test.size()),
                    .dim = static_cast<uint64_t>(train.dim()),
                    .source = train.source_classes > 0};
  if (test.dim() != train.dim() || train.labels.size() != shape.train_rows ||
      test.labels.size() != shape.test_rows ||
      (shape.source && (train.source_labels.size() != shape.train_rows ||
                        test.source_labels.size() != shape.test_rows))) {
    return Status::InvalidArgument("cannot cache " + source.path +
                                   ": the splits' shapes disagree");
  }
  std::vector<uint8_t> train_pixels;
  std::vector<uint8_t> test_pixels;
  if (!EncodePixels(train.features, &train_pixels) ||
      !EncodePixels(test.features, &test_pixels)) {
    return Status::InvalidArgument("cannot cache " + source.path +
                                   ": a feature is not a pixel byte / 255");
  }
  const Standardization standardization =
      ComputeStandardization(train.features);
  const uint64_t row_bytes = shape.dim;
  std::vector<uint32_t> row_crcs;
  row_crcs.reserve(shape.train_rows + shape.test_rows);
  for (const std::vector<uint8_t>* pixels : {&train_pixels, &test_pixels}) {
    for (uint64_t at = 0; at < pixels->size(); at += row_bytes) {
      row_crcs.push_back(Crc32(pixels->data() + at, row_bytes));
    }
  }

  // The header's size does not depend on its values, so a first pass with
  // the checksum left 0 gives the layout, and the second writes it.
  const auto header = [&](uint64_t file_size, uint32_t meta_crc) {
    ByteWriter out;
    out.U32(kMagic);
    out.U32(kFormat);
    out.U64(file_size);
    out.String(source.key);
    out.U64(shape.train_rows);
    out.U64(shape.test_rows);
    out.U64(shape.dim);
    out.U32(static_cast<uint32_t>(train.num_classes));
    out.U32(static_cast<uint32_t>(train.source_classes));
    out.U32(meta_crc);
    out.U32(Crc32(out.bytes().data(), out.bytes().size()));
    return out.Take();
  };
  // The header's CRC-32 makes it 4 bytes longer than what it covers.
  const uint64_t header_bytes = header(0, 0).size();
  const CacheLayout s = Layout(header_bytes, shape);

  // The small sections in one buffer laid out as in the file (the gaps
  // zero), for their checksum and for writing.
  std::vector<uint8_t> meta(s.end - s.train_labels, 0);
  const auto put = [&](uint64_t offset, const void* from, uint64_t size) {
    if (size > 0) {
      std::memcpy(meta.data() + (offset - s.train_labels), from, size);
    }
  };
  put(s.train_labels, train.labels.data(), shape.train_rows * sizeof(int32_t));
  put(s.test_labels, test.labels.data(), shape.test_rows * sizeof(int32_t));
  if (shape.source) {
    put(s.train_source, train.source_labels.data(),
        shape.train_rows * sizeof(int32_t));
    put(s.test_source, test.source_labels.data(),
        shape.test_rows * sizeof(int32_t));
  }
  put(s.mean, standardization.mean.data(), shape.dim * sizeof(double));
  put(s.scale, standardization.scale.data(), shape.dim * sizeof(float));
  put(s.row_crcs, row_crcs.data(), row_crcs.size() * sizeof(uint32_t));
  const std::vector<uint8_t> head =
      header(s.end, Crc32(meta.data(), meta.size()));

  static constexpr std::array<char, kAlignment> kZeros{};
  const auto padding = [](uint64_t from, uint64_t to) {
    return std::string_view(kZeros.data(), static_cast<size_t>(to - from));
  };
  const uint64_t train_bytes = shape.train_rows * row_bytes;
  const uint64_t test_bytes = shape.test_rows * row_bytes;
  const std::string_view parts[] = {
      Bytes(head.data(), head.size()),
      padding(head.size(), s.train_features),
      Bytes(train_pixels.data(), train_bytes),
      padding(s.train_features + train_bytes, s.test_features),
      Bytes(test_pixels.data(), test_bytes),
      padding(s.test_features + test_bytes, s.train_labels),
      Bytes(meta.data(), meta.size()),
  };
  std::error_code error;
  const std::filesystem::path dir =
      std::filesystem::path(source.path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::Unavailable("cannot create the cache directory " +
                               dir.string() + ": " + error.message());
  }
  Status written =
      io::WriteFileAtomically(source.path, parts, io::Durability::kAtomicOnly);
  if (written.ok()) RemoveOlderFormats(dir.empty() ? "." : dir);
  return written;
}

StatusOr<DatasetCache> DatasetCache::Open(const CacheSource& source) {
  StatusOr<io::MappedFile> file = io::MappedFile::Open(source.path);
  if (!file.ok()) return file.status();
  DatasetCache cache(std::move(file).value());
  Status status = cache.Check(source);
  if (!status.ok()) return status;
  return cache;
}

Status DatasetCache::Check(const CacheSource& source) {
  const std::string& path = file_.path();
  const std::span<const uint8_t> bytes = file_.bytes();
  const auto corrupt = [&](const std::string& problem) {
    return Status::DataLoss(path + ": " + problem);
  };
  ByteReader in(bytes);
  const uint32_t magic = in.U32();
  const uint32_t format = in.U32();
  if (!in.ok() || magic != kMagic) {
    return corrupt("not a dataset cache (bad magic)");
  }
  if (format != kFormat) {
    return corrupt("dataset cache format " + std::to_string(format) +
                   ", this build reads " + std::to_string(kFormat));
  }
  const uint64_t file_size = in.U64();
  const std::string key = in.String(kMaxKeyBytes);
  Shape shape;
  shape.train_rows = in.U64();
  shape.test_rows = in.U64();
  shape.dim = in.U64();
  const uint32_t num_classes = in.U32();
  const uint32_t source_classes = in.U32();
  const uint32_t meta_crc = in.U32();
  const size_t header_bytes = bytes.size() - in.remaining();
  const uint32_t header_crc = in.U32();
  if (!in.ok()) {
    return corrupt("truncated header (" + in.status().message() + ")");
  }
  if (header_crc != Crc32(bytes.data(), header_bytes)) {
    return corrupt("the header fails its checksum");
  }
  if (file_size != bytes.size()) {
    return corrupt("the header says " + std::to_string(file_size) +
                   " bytes, the file has " + std::to_string(bytes.size()) +
                   (file_size > bytes.size() ? " (truncated)" : ""));
  }
  if (key != source.key) {
    return Status::FailedPrecondition(path + ": " +
                                      FirstDifference(source.key, key));
  }
  if (shape.train_rows > kMaxRows || shape.test_rows > kMaxRows ||
      shape.dim == 0 || shape.dim > kMaxDim || num_classes == 0 ||
      num_classes > kMaxClasses || source_classes > kMaxClasses) {
    return corrupt("impossible sizes in the header");
  }
  shape.source = source_classes > 0;
  const CacheLayout s = Layout(header_bytes + sizeof(uint32_t), shape);
  if (s.end != bytes.size()) {
    return corrupt("its sections need " + std::to_string(s.end) +
                   " bytes, the file has " + std::to_string(bytes.size()));
  }
  if (Crc32(At(s.train_labels), s.end - s.train_labels) != meta_crc) {
    return corrupt("the labels or checksums fail their checksum");
  }
  const auto check_labels = [&](uint64_t offset, uint64_t count,
                                uint32_t classes) {
    for (uint64_t i = 0; i < count; ++i) {
      int32_t label = 0;
      std::memcpy(&label, At(offset + i * sizeof(int32_t)), sizeof(label));
      if (label < 0 || static_cast<uint32_t>(label) >= classes) return false;
    }
    return true;
  };
  if (!check_labels(s.train_labels, shape.train_rows, num_classes) ||
      !check_labels(s.test_labels, shape.test_rows, num_classes) ||
      (shape.source &&
       (!check_labels(s.train_source, shape.train_rows, source_classes) ||
        !check_labels(s.test_source, shape.test_rows, source_classes)))) {
    return corrupt("a label outside its classes");
  }
  train_rows_ = shape.train_rows;
  test_rows_ = shape.test_rows;
  dim_ = shape.dim;
  num_classes_ = static_cast<int>(num_classes);
  source_classes_ = static_cast<int>(source_classes);
  sections_ = s;
  return Status::Ok();
}

Dataset DatasetCache::TrainLabels() const {
  Dataset labels;
  labels.features.resize(0, static_cast<Eigen::Index>(dim_));
  labels.num_classes = num_classes_;
  labels.labels.resize(train_rows_);
  std::memcpy(labels.labels.data(), At(sections_.train_labels),
              train_rows_ * sizeof(int32_t));
  if (source_classes_ > 0) {
    labels.source_classes = source_classes_;
    labels.source_labels.resize(train_rows_);
    std::memcpy(labels.source_labels.data(), At(sections_.train_source),
                train_rows_ * sizeof(int32_t));
  }
  return labels;
}

Standardization DatasetCache::standardization() const {
  Standardization result;
  result.mean.resize(dim_);
  result.scale.resize(dim_);
  std::memcpy(result.mean.data(), At(sections_.mean), dim_ * sizeof(double));
  std::memcpy(result.scale.data(), At(sections_.scale), dim_ * sizeof(float));
  return result;
}

StatusOr<Dataset> DatasetCache::TrainRows(std::span<const int64_t> rows) const {
  return Rows(Split::kTrain, rows);
}

StatusOr<Dataset> DatasetCache::Rows(Split split,
                                     std::span<const int64_t> rows) const {
  const uint64_t split_rows = split == Split::kTest ? test_rows_ : train_rows_;
  for (const int64_t row : rows) {
    if (row < 0 || static_cast<uint64_t>(row) >= split_rows) {
      return Status::InvalidArgument(file_.path() + ": no row " +
                                     std::to_string(row) + " in a split of " +
                                     std::to_string(split_rows));
    }
  }
  Dataset out;
  out.features.resize(static_cast<Eigen::Index>(rows.size()),
                      static_cast<Eigen::Index>(dim_));
  MapPagesNow(out.features.data(),
              static_cast<size_t>(out.features.size()) * sizeof(float));
  out.labels.resize(rows.size());
  out.num_classes = num_classes_;
  if (source_classes_ > 0) {
    out.source_classes = source_classes_;
    out.source_labels.resize(rows.size());
  }
  // Runs of consecutive rows are read at once. Read, not copied from the
  // mapping: see MappedFile::ReadAt.
  const uint64_t features = split == Split::kTest ? sections_.test_features
                                                  : sections_.train_features;
  const uint64_t row_bytes = dim_;
  const size_t run_limit =
      static_cast<size_t>(std::max<uint64_t>(1, kReadBytes / row_bytes));
  std::vector<uint8_t> pixels(std::min(rows.size(), run_limit) * row_bytes);
  for (size_t first = 0; first < rows.size();) {
    size_t end = first + 1;
    while (end < rows.size() && end - first < run_limit &&
           rows[end] == rows[end - 1] + 1) {
      ++end;
    }
    const std::span<uint8_t> run(pixels.data(), (end - first) * row_bytes);
    Status status = file_.ReadAt(
        features + static_cast<uint64_t>(rows[first]) * row_bytes, run);
    for (size_t i = first; i < end && status.ok(); ++i) {
      status = DecodeRow(split, static_cast<uint64_t>(rows[i]),
                         run.data() + (i - first) * row_bytes, i, &out);
    }
    if (!status.ok()) return status;
    first = end;
  }
  return out;
}

Status DatasetCache::DecodeRow(Split split, uint64_t row, const uint8_t* pixels,
                               size_t i, Dataset* out) const {
  const bool test = split == Split::kTest;
  const uint64_t crc_at =
      sections_.row_crcs + ((test ? train_rows_ : 0) + row) * sizeof(uint32_t);
  uint32_t expected = 0;
  std::memcpy(&expected, At(crc_at), sizeof(expected));
  // The checksum is of the bytes read, which are what is decoded.
  if (Crc32(pixels, dim_) != expected) {
    return Status::DataLoss(file_.path() + ": " + (test ? "test" : "training") +
                            " row " + std::to_string(row) +
                            " fails its checksum");
  }
  float* decoded = out->features.row(static_cast<Eigen::Index>(i)).data();
  for (uint64_t j = 0; j < dim_; ++j) {
    decoded[j] = PixelFeature(pixels[j]);
  }
  const uint64_t labels = test ? sections_.test_labels : sections_.train_labels;
  std::memcpy(&out->labels[i], At(labels + row * sizeof(int32_t)),
              sizeof(int32_t));
  if (source_classes_ > 0) {
    const uint64_t source =
        test ? sections_.test_source : sections_.train_source;
    std::memcpy(&out->source_labels[i], At(source + row * sizeof(int32_t)),
                sizeof(int32_t));
  }
  return Status::Ok();
}

StatusOr<Dataset> DatasetCache::All(Split split) const {
  std::vector<int64_t> all(split == Split::kTest ? test_rows_ : train_rows_);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<int64_t>(i);
  }
  return Rows(split, all);
}

StatusOr<Dataset> DatasetCache::Test() const {
  return All(Split::kTest);
}

StatusOr<TrainTest> DatasetCache::LoadAll() const {
  StatusOr<Dataset> train = All(Split::kTrain);
  if (!train.ok()) return train.status();
  StatusOr<Dataset> test = All(Split::kTest);
  if (!test.ok()) return test.status();
  return TrainTest{.train = std::move(train).value(),
                   .test = std::move(test).value()};
}

}  // namespace anchorage::data
