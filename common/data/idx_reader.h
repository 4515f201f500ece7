// Readers for the IDX format used by MNIST and Fashion-MNIST, raw or
// gzip-compressed, and the Fashion-MNIST loader built on them.
//
// Thread-safety: free functions without shared state; safe to call
// concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/data/dataset.h"
#include "common/tensor/tensor.h"

namespace anchorage::data {

// The feature of one pixel byte: the byte scaled by 1/255. The dataset
// cache stores the bytes and decodes them with this, so a cached dataset is
// bit-identical to the decoded one.
inline float PixelFeature(uint8_t pixel) {
  return static_cast<float>(pixel) / 255.0F;
}

// Reads an IDX image file: big-endian magic 0x00000803, count n, rows, cols,
// then n*rows*cols unsigned bytes. Returns an n x (rows*cols) matrix with the
// bytes scaled by 1/255. The file may be gzip-compressed; compression is
// detected from the gzip magic bytes 1f 8b, not from the file name.
// Returns kNotFound("cannot open <path>: ...") when the file cannot be
// opened, and kDataLoss("<path>: ...") for a wrong magic, a header claiming
// more than 2^31 bytes of pixels, truncated or excess data, or corrupt gzip.
StatusOr<RowMatrix> ReadIdxImages(const std::string& path);

// Reads an IDX label file: big-endian magic 0x00000801, count n, then n
// unsigned bytes. Errors as for ReadIdxImages.
StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path);

// The files of Fashion-MNIST in `dir` (empty means
// /usr/share/datasets/fashion-mnist), each name with a .gz suffix when that
// file exists, else the raw name: train images, train labels, test images,
// test labels, in that order. Returns kNotFound naming a missing file.
StatusOr<std::vector<std::string>> FashionMnistFiles(const std::string& dir);

// Loads Fashion-MNIST from `dir` (empty means
// /usr/share/datasets/fashion-mnist): train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte,
// the files FashionMnistFiles names. Sets num_classes to 10. Returns kNotFound
// when a file is missing and kDataLoss naming the file when a file is corrupt,
// image and label counts disagree, train and test image sizes differ, or a
// label is >= 10.
StatusOr<TrainTest> LoadFashionMnist(const std::string& dir);

}  // namespace anchorage::data
