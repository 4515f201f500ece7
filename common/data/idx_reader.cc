#include "common/data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/base/format.h"

namespace anchorage::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr uint64_t kMaxDataBytes = uint64_t{1} << 31;
constexpr int kFashionMnistClasses = 10;
constexpr const char* kDefaultFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

// Owns a zlib file handle. zlib reads raw files transparently and recognizes
// gzip by its magic bytes, so one handle type serves both encodings.
class IdxFile {
 public:
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;
  ~IdxFile() {
    if (file_ != nullptr) gzclose(file_);
  }

  // Opens `path` for reading; kNotFound when it cannot be opened.
  static StatusOr<IdxFile> Open(const std::string& path) {
    errno = 0;
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) {
      const int error = errno;
      return Status::NotFound(
          "cannot open " + path + ": " +
          (error != 0 ? ErrnoText(error) : "out of memory"));
    }
    // Larger than zlib's 8 KiB default: fewer read calls on 30 MB files.
    gzbuffer(file, 1 << 18);
    return IdxFile(path, file);
  }

  IdxFile(IdxFile&& other) noexcept
      : path_(std::move(other.path_)),
        file_(std::exchange(other.file_, nullptr)) {}
  IdxFile& operator=(IdxFile&&) = delete;

  // Reads exactly `size` bytes into `out`. Returns kDataLoss naming the path
  // and `what` when the file ends early or its data is corrupt.
  Status ReadExactly(uint8_t* out, uint64_t size, const char* what) {
    uint64_t done = 0;
    while (done < size) {
      const auto chunk =
          static_cast<unsigned>(std::min<uint64_t>(size - done, 1U << 30));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) return CorruptError();
      if (got == 0) {
        std::string message = path_ + ": truncated " + what + ": expected " +
                              std::to_string(size) + " bytes, got " +
                              std::to_string(done);
        int errnum = Z_OK;
        const char* detail = gzerror(file_, &errnum);
        if (errnum != Z_OK) message += std::string(" (") + detail + ")";
        return Status::DataLoss(message);
      }
      done += static_cast<uint64_t>(got);
    }
    return Status::Ok();
  }

  // Checks that the file ends here. Reading past the data also makes zlib
  // verify the gzip trailer's checksum and length.
  Status ExpectEnd(const std::string& description) {
    uint8_t byte = 0;
    const int got = gzread(file_, &byte, 1);
    if (got < 0) return CorruptError();
    if (got > 0) {
      return Status::DataLoss(path_ + ": extra data after " + description +
                              " (count mismatch or wrong header)");
    }
    int errnum = Z_OK;
    const char* detail = gzerror(file_, &errnum);
    if (errnum != Z_OK) {
      return Status::DataLoss(path_ + ": gzip stream ends early after " +
                              description + " (" + detail + ")");
    }
    return Status::Ok();
  }

 private:
  IdxFile(std::string path, gzFile file)
      : path_(std::move(path)), file_(file) {}

  Status CorruptError() {
    int errnum = Z_OK;
    const char* detail = gzerror(file_, &errnum);
    if (errnum == Z_ERRNO) {
      return Status::DataLoss(path_ + ": read error: " + ErrnoText(errno));
    }
    return Status::DataLoss(path_ + ": corrupt " +
                            (gzdirect(file_) != 0 ? "data" : "gzip data") +
                            ": " + detail);
  }

  std::string path_;
  gzFile file_;
};

uint32_t BigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
         (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

std::string Hex32(uint32_t value) {
  std::array<char, 16> text{};
  std::snprintf(text.data(), text.size(), "0x%08x", value);
  return text.data();
}

// Reads the header of an IDX file: the magic, which must equal `magic`, and
// then `num_dims` big-endian sizes into `dims`.
Status ReadHeader(IdxFile& file, const std::string& path, uint32_t magic,
                  const char* kind, std::vector<uint32_t>* dims) {
  std::array<uint8_t, 4> word{};
  Status status = file.ReadExactly(word.data(), word.size(), "header");
  if (!status.ok()) return status;
  const uint32_t found = BigEndian32(word.data());
  if (found != magic) {
    return Status::DataLoss(path + ": bad magic " + Hex32(found) +
                            ", expected " + Hex32(magic) + " (IDX " + kind +
                            ")");
  }
  const uint32_t num_dims = magic & 0xFFU;
  dims->resize(num_dims);
  for (uint32_t i = 0; i < num_dims; ++i) {
    status = file.ReadExactly(word.data(), word.size(), "header");
    if (!status.ok()) return status;
    (*dims)[i] = BigEndian32(word.data());
  }
  return Status::Ok();
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

bool FileExists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

// Returns the path of `name` in `dir`, preferring the gzip-compressed file.
StatusOr<std::string> FindIdxFile(const std::string& dir,
                                  const std::string& name) {
  const std::string gz_path = JoinPath(dir, name + ".gz");
  if (FileExists(gz_path)) return gz_path;
  const std::string raw_path = JoinPath(dir, name);
  if (FileExists(raw_path)) return raw_path;
  return Status::NotFound("cannot open " + gz_path + " (nor " + raw_path +
                          "): no such file");
}

// Loads one split (images and labels) of Fashion-MNIST.
StatusOr<Dataset> LoadSplit(const std::string& images_path,
                            const std::string& labels_path) {
  StatusOr<RowMatrix> images = ReadIdxImages(images_path);
  if (!images.ok()) return images.status();
  StatusOr<std::vector<int32_t>> labels = ReadIdxLabels(labels_path);
  if (!labels.ok()) return labels.status();

  if (images->rows() != static_cast<Eigen::Index>(labels->size())) {
    return Status::DataLoss(images_path + ": has " +
                            std::to_string(images->rows()) + " images but " +
                            labels_path + " has " +
                            std::to_string(labels->size()) + " labels");
  }
  for (size_t i = 0; i < labels->size(); ++i) {
    if ((*labels)[i] >= kFashionMnistClasses) {
      return Status::DataLoss(labels_path + ": label " +
                              std::to_string((*labels)[i]) + " at index " +
                              std::to_string(i) + " is not below " +
                              std::to_string(kFashionMnistClasses));
    }
  }
  Dataset split;
  split.features = std::move(images).value();
  split.labels = std::move(labels).value();
  split.num_classes = kFashionMnistClasses;
  return split;
}

}  // namespace

StatusOr<RowMatrix> ReadIdxImages(const std::string& path) {
  StatusOr<IdxFile> file = IdxFile::Open(path);
  if (!file.ok()) return file.status();
  std::vector<uint32_t> dims;
  Status status = ReadHeader(*file, path, kImagesMagic, "images", &dims);
  if (!status.ok()) return status;

  const uint64_t count = dims[0];
  const uint64_t pixels = uint64_t{dims[1]} * dims[2];
  const std::string shape = std::to_string(dims[0]) + " x " +
                            std::to_string(dims[1]) + " x " +
                            std::to_string(dims[2]);
  if (pixels == 0) {
    return Status::DataLoss(path + ": header claims empty images " + shape);
  }
  if (pixels > kMaxDataBytes || count > kMaxDataBytes / pixels) {
    return Status::DataLoss(path + ": header claims " + shape +
                            " images, more than 2^31 bytes");
  }

  RowMatrix images(static_cast<Eigen::Index>(count),
                   static_cast<Eigen::Index>(pixels));
  // Convert in cache-sized chunks rather than holding all bytes at once.
  const uint64_t total = count * pixels;
  std::vector<uint8_t> chunk(std::min<uint64_t>(total, uint64_t{1} << 20));
  float* out = images.data();
  for (uint64_t done = 0; done < total;) {
    const uint64_t size = std::min<uint64_t>(total - done, chunk.size());
    status = file->ReadExactly(chunk.data(), size, "pixel data");
    if (!status.ok()) return status;
    const uint8_t* in = chunk.data();
    for (uint64_t i = 0; i < size; ++i) {
      out[i] = PixelFeature(in[i]);
    }
    out += size;
    done += size;
  }
  status = file->ExpectEnd(shape + " images");
  if (!status.ok()) return status;
  return images;
}

StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path) {
  StatusOr<IdxFile> file = IdxFile::Open(path);
  if (!file.ok()) return file.status();
  std::vector<uint32_t> dims;
  Status status = ReadHeader(*file, path, kLabelsMagic, "labels", &dims);
  if (!status.ok()) return status;

  const uint64_t count = dims[0];
  if (count > kMaxDataBytes) {
    return Status::DataLoss(path + ": header claims " + std::to_string(count) +
                            " labels, more than 2^31 bytes");
  }
  std::vector<uint8_t> bytes(count);
  status = file->ReadExactly(bytes.data(), count, "labels");
  if (!status.ok()) return status;
  status = file->ExpectEnd(std::to_string(count) + " labels");
  if (!status.ok()) return status;
  return std::vector<int32_t>(bytes.begin(), bytes.end());
}

StatusOr<std::vector<std::string>> FashionMnistFiles(const std::string& dir) {
  const std::string root = dir.empty() ? kDefaultFashionMnistDir : dir;
  std::vector<std::string> files;
  for (const char* name :
       {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    StatusOr<std::string> path = FindIdxFile(root, name);
    if (!path.ok()) return path.status();
    files.push_back(std::move(path).value());
  }
  return files;
}

StatusOr<TrainTest> LoadFashionMnist(const std::string& dir) {
  const std::string root = dir.empty() ? kDefaultFashionMnistDir : dir;
  StatusOr<std::vector<std::string>> files = FashionMnistFiles(root);
  if (!files.ok()) return files.status();
  StatusOr<Dataset> train = LoadSplit((*files)[0], (*files)[1]);
  if (!train.ok()) return train.status();
  StatusOr<Dataset> test = LoadSplit((*files)[2], (*files)[3]);
  if (!test.ok()) return test.status();
  if (train->dim() != test->dim()) {
    return Status::DataLoss(
        root + ": train images have " + std::to_string(train->dim()) +
        " pixels but test images have " + std::to_string(test->dim()));
  }
  TrainTest data;
  data.train = std::move(train).value();
  data.test = std::move(test).value();
  return data;
}

}  // namespace anchorage::data
