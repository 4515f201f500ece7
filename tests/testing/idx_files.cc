#include "tests/testing/idx_files.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/testing/temp_files.h"

namespace anchorage::testing {
namespace {

void AppendBigEndian32(uint32_t value, std::string* out) {
  for (const int shift : {24, 16, 8, 0}) {
    out->push_back(static_cast<char>((value >> shift) & 0xFFU));
  }
}

std::string ImageFile(int count, int side, int salt) {
  std::string bytes;
  AppendBigEndian32(0x00000803, &bytes);
  AppendBigEndian32(static_cast<uint32_t>(count), &bytes);
  AppendBigEndian32(static_cast<uint32_t>(side), &bytes);
  AppendBigEndian32(static_cast<uint32_t>(side), &bytes);
  for (int i = 0; i < count; ++i) {
    for (int j = 0; j < side * side; ++j) {
      bytes.push_back(static_cast<char>((i * 37 + j * 11 + salt) % 256));
    }
  }
  return bytes;
}

std::string LabelFile(int count) {
  std::string bytes;
  AppendBigEndian32(0x00000801, &bytes);
  AppendBigEndian32(static_cast<uint32_t>(count), &bytes);
  for (int i = 0; i < count; ++i) {
    bytes.push_back(static_cast<char>(i % 10));
  }
  return bytes;
}

}  // namespace

void WriteSmallFashionMnist(const std::string& dir, int train, int test,
                            int side, int salt) {
  WriteAll(dir + "/train-images-idx3-ubyte", ImageFile(train, side, salt));
  WriteAll(dir + "/train-labels-idx1-ubyte", LabelFile(train));
  WriteAll(dir + "/t10k-images-idx3-ubyte", ImageFile(test, side, salt + 1));
  WriteAll(dir + "/t10k-labels-idx1-ubyte", LabelFile(test));
}

void ExpectSameSplit(const data::Dataset& got, const data::Dataset& want) {
  ASSERT_EQ(got.features.rows(), want.features.rows());
  ASSERT_EQ(got.features.cols(), want.features.cols());
  EXPECT_EQ(
      std::memcmp(got.features.data(), want.features.data(),
                  static_cast<size_t>(want.features.size()) * sizeof(float)),
      0);
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_EQ(got.num_classes, want.num_classes);
  EXPECT_EQ(got.source_labels, want.source_labels);
  EXPECT_EQ(got.source_classes, want.source_classes);
}

}  // namespace anchorage::testing
