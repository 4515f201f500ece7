#include "common/data/idx_reader.h"

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/data/dataset.h"
#include "tests/testing/temp_files.h"

namespace anchorage::data {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr const char* kInstalledFashionMnist =
    "/usr/share/datasets/fashion-mnist";

void AppendBigEndian32(uint32_t value, Bytes* out) {
  out->push_back(static_cast<uint8_t>(value >> 24));
  out->push_back(static_cast<uint8_t>(value >> 16));
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value));
}

// Pixel (i, j) of the test images: varied, and covering 0 and 255.
uint8_t Pixel(uint32_t image, uint32_t index) {
  return static_cast<uint8_t>((image * 37 + index * 11) % 256);
}

Bytes ImageFile(uint32_t count, uint32_t rows, uint32_t cols) {
  Bytes bytes;
  AppendBigEndian32(0x00000803, &bytes);
  AppendBigEndian32(count, &bytes);
  AppendBigEndian32(rows, &bytes);
  AppendBigEndian32(cols, &bytes);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t j = 0; j < rows * cols; ++j) {
      bytes.push_back(Pixel(i, j));
    }
  }
  return bytes;
}

Bytes LabelFile(const std::vector<uint8_t>& labels) {
  Bytes bytes;
  AppendBigEndian32(0x00000801, &bytes);
  AppendBigEndian32(static_cast<uint32_t>(labels.size()), &bytes);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

std::string TestDir() {
  return testing::FreshTestDir("idx");
}

void WriteRaw(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void WriteGzip(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

Bytes ReadRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void ExpectImagesMatch(const RowMatrix& images, uint32_t count, uint32_t rows,
                       uint32_t cols) {
  ASSERT_EQ(images.rows(), count);
  ASSERT_EQ(images.cols(), rows * cols);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t j = 0; j < rows * cols; ++j) {
      ASSERT_EQ(images(i, j), static_cast<float>(Pixel(i, j)) / 255.0F)
          << "image " << i << " pixel " << j;
    }
  }
}

void ExpectDataLossNaming(const Status& status, const std::string& path) {
  EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
  EXPECT_NE(status.message().find(path), std::string::npos)
      << status.ToString();
}

TEST(IdxReaderTest, ReadsRawImagesExactly) {
  const std::string path = TestDir() + "/images";
  WriteRaw(path, ImageFile(7, 3, 5));
  const StatusOr<RowMatrix> images = ReadIdxImages(path);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  ExpectImagesMatch(*images, 7, 3, 5);
  EXPECT_EQ(images->minCoeff(), 0.0F);
  EXPECT_EQ(images->maxCoeff(), 1.0F);
}

TEST(IdxReaderTest, ReadsGzipImagesExactly) {
  const std::string path = TestDir() + "/images.gz";
  WriteGzip(path, ImageFile(50, 4, 6));
  const StatusOr<RowMatrix> images = ReadIdxImages(path);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  ExpectImagesMatch(*images, 50, 4, 6);
}

TEST(IdxReaderTest, DetectsGzipByMagicNotByName) {
  const std::string dir = TestDir();
  WriteGzip(dir + "/gzip-without-suffix", ImageFile(3, 2, 2));
  WriteRaw(dir + "/raw-with-suffix.gz", ImageFile(3, 2, 2));
  const StatusOr<RowMatrix> gzip = ReadIdxImages(dir + "/gzip-without-suffix");
  ASSERT_TRUE(gzip.ok()) << gzip.status().ToString();
  ExpectImagesMatch(*gzip, 3, 2, 2);
  const StatusOr<RowMatrix> raw = ReadIdxImages(dir + "/raw-with-suffix.gz");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ExpectImagesMatch(*raw, 3, 2, 2);
}

TEST(IdxReaderTest, ReadsEmptyImageFile) {
  const std::string path = TestDir() + "/images";
  WriteRaw(path, ImageFile(0, 28, 28));
  const StatusOr<RowMatrix> images = ReadIdxImages(path);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  EXPECT_EQ(images->rows(), 0);
  EXPECT_EQ(images->cols(), 784);
}

TEST(IdxReaderTest, ReadsRawAndGzipLabelsExactly) {
  const std::string dir = TestDir();
  const std::vector<uint8_t> labels = {0, 9, 3, 255, 7, 7, 1};
  WriteRaw(dir + "/labels", LabelFile(labels));
  WriteGzip(dir + "/labels.gz", LabelFile(labels));
  const std::vector<int32_t> expected = {0, 9, 3, 255, 7, 7, 1};
  for (const char* name : {"/labels", "/labels.gz"}) {
    const StatusOr<std::vector<int32_t>> read = ReadIdxLabels(dir + name);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, expected) << name;
  }
}

TEST(IdxReaderTest, MissingFileIsNotFoundNamingPath) {
  const std::string path = TestDir() + "/no-such-file.gz";
  const StatusOr<RowMatrix> images = ReadIdxImages(path);
  EXPECT_EQ(images.status().code(), Status::Code::kNotFound);
  EXPECT_NE(images.status().message().find("cannot open " + path),
            std::string::npos)
      << images.status().ToString();
  const StatusOr<std::vector<int32_t>> labels = ReadIdxLabels(path);
  EXPECT_EQ(labels.status().code(), Status::Code::kNotFound);
  EXPECT_NE(labels.status().message().find(path), std::string::npos);
}

TEST(IdxReaderTest, WrongMagicIsDataLoss) {
  const std::string dir = TestDir();
  WriteRaw(dir + "/labels", LabelFile({1, 2, 3}));
  WriteGzip(dir + "/images.gz", ImageFile(2, 2, 2));
  WriteRaw(dir + "/text", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r',
                                'l', 'd', '!', '!', '!', '!', '!'});
  ExpectDataLossNaming(ReadIdxImages(dir + "/labels").status(),
                       dir + "/labels");
  ExpectDataLossNaming(ReadIdxLabels(dir + "/images.gz").status(),
                       dir + "/images.gz");
  const Status text = ReadIdxImages(dir + "/text").status();
  ExpectDataLossNaming(text, dir + "/text");
  EXPECT_NE(text.message().find("magic"), std::string::npos);
}

TEST(IdxReaderTest, TruncatedDataIsDataLoss) {
  const std::string dir = TestDir();
  Bytes images = ImageFile(10, 3, 3);
  images.resize(images.size() - 1);
  WriteRaw(dir + "/images", images);
  WriteGzip(dir + "/images.gz", images);
  Bytes labels = LabelFile({1, 2, 3, 4});
  labels.resize(labels.size() - 2);
  WriteRaw(dir + "/labels", labels);
  WriteRaw(dir + "/header", Bytes{0, 0, 8, 3, 0, 0});
  WriteRaw(dir + "/empty", Bytes{});

  ExpectDataLossNaming(ReadIdxImages(dir + "/images").status(),
                       dir + "/images");
  ExpectDataLossNaming(ReadIdxImages(dir + "/images.gz").status(),
                       dir + "/images.gz");
  ExpectDataLossNaming(ReadIdxLabels(dir + "/labels").status(),
                       dir + "/labels");
  ExpectDataLossNaming(ReadIdxImages(dir + "/header").status(),
                       dir + "/header");
  ExpectDataLossNaming(ReadIdxLabels(dir + "/empty").status(), dir + "/empty");
}

TEST(IdxReaderTest, DataBeyondHeaderCountIsDataLoss) {
  const std::string dir = TestDir();
  Bytes images = ImageFile(4, 2, 2);
  images.insert(images.end(), {1, 2, 3, 4});
  WriteGzip(dir + "/images.gz", images);
  Bytes labels = LabelFile({1, 2, 3});
  labels.push_back(4);
  WriteRaw(dir + "/labels", labels);
  ExpectDataLossNaming(ReadIdxImages(dir + "/images.gz").status(),
                       dir + "/images.gz");
  ExpectDataLossNaming(ReadIdxLabels(dir + "/labels").status(),
                       dir + "/labels");
}

TEST(IdxReaderTest, OversizedHeaderIsDataLoss) {
  const std::string dir = TestDir();
  Bytes images;
  AppendBigEndian32(0x00000803, &images);
  AppendBigEndian32(1U << 20, &images);
  AppendBigEndian32(1U << 10, &images);
  AppendBigEndian32(1U << 10, &images);
  WriteRaw(dir + "/images", images);
  Bytes labels;
  AppendBigEndian32(0x00000801, &labels);
  AppendBigEndian32(0xFFFFFFFFU, &labels);
  WriteRaw(dir + "/labels", labels);
  const Status status = ReadIdxImages(dir + "/images").status();
  ExpectDataLossNaming(status, dir + "/images");
  EXPECT_NE(status.message().find("2^31"), std::string::npos);
  ExpectDataLossNaming(ReadIdxLabels(dir + "/labels").status(),
                       dir + "/labels");
}

TEST(IdxReaderTest, CorruptGzipIsDataLoss) {
  const std::string dir = TestDir();
  WriteGzip(dir + "/good.gz", ImageFile(200, 8, 8));
  const Bytes good = ReadRaw(dir + "/good.gz");
  ASSERT_GT(good.size(), 64U);

  // The CRC-32 in the gzip trailer no longer matches the data.
  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 8] ^= 0xFF;
  WriteRaw(dir + "/bad-crc.gz", bad_crc);
  // Garbage in the middle of the deflate stream.
  Bytes bad_body = good;
  for (size_t i = 20; i < 40; ++i) {
    bad_body[i] ^= 0x5A;
  }
  WriteRaw(dir + "/bad-body.gz", bad_body);
  // A gzip magic followed by nonsense.
  WriteRaw(dir + "/bad-header.gz", Bytes{0x1F, 0x8B, 0x01, 0x02, 0x03, 0x04,
                                         0x05, 0x06, 0x07, 0x08, 0x09, 0x0A});
  // The compressed stream cut short.
  Bytes cut = good;
  cut.resize(cut.size() / 2);
  WriteRaw(dir + "/cut.gz", cut);

  for (const char* name :
       {"/bad-crc.gz", "/bad-body.gz", "/bad-header.gz", "/cut.gz"}) {
    SCOPED_TRACE(name);
    ExpectDataLossNaming(ReadIdxImages(dir + name).status(), dir + name);
  }
}

// Writes a small Fashion-MNIST-shaped directory: train files gzip, test raw.
void WriteSmallFashionMnist(const std::string& dir,
                            const std::vector<uint8_t>& train_labels,
                            const std::vector<uint8_t>& test_labels) {
  WriteGzip(dir + "/train-images-idx3-ubyte.gz", ImageFile(20, 4, 4));
  WriteGzip(dir + "/train-labels-idx1-ubyte.gz", LabelFile(train_labels));
  WriteRaw(dir + "/t10k-images-idx3-ubyte", ImageFile(5, 4, 4));
  WriteRaw(dir + "/t10k-labels-idx1-ubyte", LabelFile(test_labels));
}

std::vector<uint8_t> CyclicLabels(size_t count) {
  std::vector<uint8_t> labels(count);
  for (size_t i = 0; i < count; ++i) {
    labels[i] = static_cast<uint8_t>(i % 10);
  }
  return labels;
}

TEST(FashionMnistTest, LoadsGzipAndRawFiles) {
  const std::string dir = TestDir();
  WriteSmallFashionMnist(dir, CyclicLabels(20), CyclicLabels(5));
  // A raw train-images file next to the .gz one must be ignored.
  WriteRaw(dir + "/train-images-idx3-ubyte", ImageFile(1, 1, 1));
  const StatusOr<TrainTest> data = LoadFashionMnist(dir);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ExpectImagesMatch(data->train.features, 20, 4, 4);
  ExpectImagesMatch(data->test.features, 5, 4, 4);
  EXPECT_EQ(data->train.num_classes, 10);
  EXPECT_EQ(data->test.num_classes, 10);
  EXPECT_EQ(data->train.labels[13], 3);
  EXPECT_EQ(data->test.labels[4], 4);
}

TEST(FashionMnistTest, RejectsLabelCountMismatch) {
  const std::string dir = TestDir();
  WriteSmallFashionMnist(dir, CyclicLabels(19), CyclicLabels(5));
  const Status status = LoadFashionMnist(dir).status();
  ExpectDataLossNaming(status, dir + "/train-labels-idx1-ubyte.gz");
}

TEST(FashionMnistTest, RejectsLabelOutOfRange) {
  const std::string dir = TestDir();
  std::vector<uint8_t> test_labels = CyclicLabels(5);
  test_labels[2] = 10;
  WriteSmallFashionMnist(dir, CyclicLabels(20), test_labels);
  const Status status = LoadFashionMnist(dir).status();
  ExpectDataLossNaming(status, dir + "/t10k-labels-idx1-ubyte");
}

TEST(FashionMnistTest, MissingFileIsNotFound) {
  const std::string dir = TestDir();
  WriteSmallFashionMnist(dir, CyclicLabels(20), CyclicLabels(5));
  std::filesystem::remove(dir + "/t10k-images-idx3-ubyte");
  const Status status = LoadFashionMnist(dir).status();
  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status.ToString();
  EXPECT_NE(status.message().find(dir + "/t10k-images-idx3-ubyte"),
            std::string::npos)
      << status.ToString();
}

// The project's setup always installs Fashion-MNIST, so its absence is a
// failure rather than a reason to skip.
TEST(FashionMnistTest, LoadsInstalledDataset) {
  ASSERT_TRUE(std::filesystem::is_directory(kInstalledFashionMnist))
      << kInstalledFashionMnist << " is missing; the setup installs it";
  const auto start = std::chrono::steady_clock::now();
  const StatusOr<TrainTest> data =
      LoadDataset(DatasetKind::kFashionMnist, "", 0);
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  std::printf("loaded Fashion-MNIST in %.3f s\n", elapsed.count());

  EXPECT_EQ(data->train.size(), 60000);
  EXPECT_EQ(data->test.size(), 10000);
  EXPECT_EQ(data->train.dim(), 784);
  EXPECT_EQ(data->test.dim(), 784);
  EXPECT_EQ(data->train.num_classes, 10);
  std::vector<int> per_class(10, 0);
  for (const int32_t label : data->train.labels) {
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    ++per_class[static_cast<size_t>(label)];
  }
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(per_class[c], 6000) << "class " << c;
  }
  for (const Dataset* split : {&data->train, &data->test}) {
    EXPECT_GE(split->features.minCoeff(), 0.0F);
    EXPECT_LE(split->features.maxCoeff(), 1.0F);
    EXPECT_EQ(split->features.maxCoeff(), 1.0F);
  }
}

}  // namespace
}  // namespace anchorage::data
