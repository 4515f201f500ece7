#include "common/codec/topk_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the topk wire format is little-endian");

namespace {

std::string Format(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

int64_t CoordinatesSent(int64_t dim, double fraction) {
  const auto k =
      static_cast<int64_t>(std::llround(fraction * static_cast<double>(dim)));
  return std::clamp<int64_t>(k, 1, dim);
}

}  // namespace

TopKCodec::TopKCodec(int64_t dim, double fraction)
    : dim_(dim),
      k_(CoordinatesSent(dim, fraction)),
      residual_(static_cast<size_t>(dim), 0.0F),
      accumulated_(static_cast<size_t>(dim)),
      magnitudes_(static_cast<size_t>(dim)) {
  ANCHORAGE_CHECK(fraction > 0 && fraction <= 1, "topk fraction out of range");
}

Status TopKCodec::ValidateOptions(const CodecOptions& options) {
  const double fraction = options.topk_fraction;
  if (fraction > 0 && fraction <= 1) return Status::Ok();
  return Status::InvalidArgument("topk_fraction must be in (0, 1], got " +
                                 Format(fraction));
}

Status TopKCodec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument("topk codec: " +
                                   std::to_string(values.size()) +
                                   " values, expected " + std::to_string(dim_));
  }
  const size_t size = values.size();
  const float* g = values.data();
  const float* r = residual_.data();
  float* v = accumulated_.data();
  float* magnitude = magnitudes_.data();
  uint32_t non_finite = 0;
  for (size_t i = 0; i < size; ++i) {
    v[i] = g[i] + r[i];
    magnitude[i] = std::fabs(v[i]);
    // The comparison is false for NaN as well as for infinities.
    non_finite |= magnitude[i] <= std::numeric_limits<float>::max() ? 0U : 1U;
  }
  if (non_finite != 0) {
    for (size_t i = 0; i < size; ++i) {
      if (std::isfinite(v[i])) continue;
      return Status::InvalidArgument(
          "topk codec: " +
          (std::isfinite(g[i])
               ? "value + residual at coordinate " + std::to_string(i) +
                     " overflows float32"
               : "value at coordinate " + std::to_string(i) + " is " +
                     Format(g[i]) + ", not finite"));
    }
  }

  // threshold = the k-th largest |v_i|: send every |v_i| > threshold and the
  // first (by index) of those equal to it, k in all, already sorted.
  const auto k = static_cast<size_t>(k_);
  std::nth_element(magnitudes_.begin(), magnitudes_.begin() + (k - 1),
                   magnitudes_.end(), std::greater<float>());
  const float threshold = magnitudes_[k - 1];
  size_t above = 0;
  for (size_t i = 0; i < size; ++i) above += std::fabs(v[i]) > threshold;
  size_t ties_left = k - above;

  out->resize(kHeaderBytes + kEntryBytes * k);
  uint8_t* bytes = out->data();
  bytes[0] = kMagic;
  const uint64_t dim64 = size;
  const auto k32 = static_cast<uint32_t>(k);
  std::memcpy(bytes + 1, &dim64, sizeof(dim64));
  std::memcpy(bytes + 9, &k32, sizeof(k32));
  uint8_t* entry = bytes + kHeaderBytes;
  // v becomes the residual; the sent coordinates leave it exactly.
  residual_.swap(accumulated_);
  float* residual = residual_.data();
  for (size_t i = 0; i < size; ++i) {
    const float a = std::fabs(residual[i]);
    if (a < threshold) continue;
    if (a == threshold) {
      if (ties_left == 0) continue;
      --ties_left;
    }
    const auto index = static_cast<uint32_t>(i);
    std::memcpy(entry, &index, 4);
    std::memcpy(entry + 4, &residual[i], 4);
    entry += kEntryBytes;
    residual[i] = 0.0F;
  }
  ANCHORAGE_CHECK(entry == bytes + out->size(), "topk sent != k");
  return Status::Ok();
}

Status TopKCodec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("topk codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  if (bytes.size() < kHeaderBytes) {
    return Status::DataLoss("topk payload has " + std::to_string(bytes.size()) +
                            " bytes, shorter than the " +
                            std::to_string(kHeaderBytes) + "-byte header");
  }
  if (bytes[0] != kMagic) {
    return Status::DataLoss("topk header has magic byte " +
                            std::to_string(bytes[0]) + ", expected " +
                            std::to_string(kMagic));
  }
  uint64_t dim = 0;
  uint32_t k = 0;
  std::memcpy(&dim, bytes.data() + 1, sizeof(dim));
  std::memcpy(&k, bytes.data() + 9, sizeof(k));
  if (dim != out.size()) {
    return Status::DataLoss("topk header has dimension " + std::to_string(dim) +
                            ", expected " + std::to_string(out.size()));
  }
  if (k > dim) {
    return Status::DataLoss("topk header has k = " + std::to_string(k) +
                            ", more than the dimension " +
                            std::to_string(dim));
  }
  const size_t expected = kHeaderBytes + kEntryBytes * size_t{k};
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "topk payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(kHeaderBytes) + "-byte header + " + std::to_string(k) +
        " entries of " + std::to_string(kEntryBytes) + " bytes)");
  }
  std::fill(out.begin(), out.end(), 0.0F);
  const uint8_t* entry = bytes.data() + kHeaderBytes;
  int64_t previous = -1;
  for (uint32_t j = 0; j < k; ++j, entry += kEntryBytes) {
    uint32_t index = 0;
    float value = 0;
    std::memcpy(&index, entry, 4);
    std::memcpy(&value, entry + 4, 4);
    if (index >= dim) {
      return Status::DataLoss("topk entry " + std::to_string(j) +
                              " has index " + std::to_string(index) +
                              ", out of range for dimension " +
                              std::to_string(dim));
    }
    if (static_cast<int64_t>(index) <= previous) {
      return Status::DataLoss(
          "topk entry " + std::to_string(j) + " has index " +
          std::to_string(index) +
          (static_cast<int64_t>(index) == previous ? ", a duplicate of"
                                                   : ", unsorted: not above") +
          " the previous index " + std::to_string(previous));
    }
    if (!std::isfinite(value)) {
      return Status::DataLoss("topk entry " + std::to_string(j) + " (index " +
                              std::to_string(index) + ") has value " +
                              Format(value) + ", not finite");
    }
    out[index] = value;
    previous = index;
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
