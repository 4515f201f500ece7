// The shared body of the 16-bit codecs (fp16, bf16): size checks and the
// per-coordinate loops, parameterised by the conversion. Internal to
// common/codec.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace anchorage::codec::internal {

// Replaces *out with 2 bytes per value of `values` (size `dim`).
template <typename ToHalf>
Status EncodeHalfWidth(const char* name, int64_t dim,
                       std::span<const float> values, std::vector<uint8_t>* out,
                       ToHalf to_half) {
  if (static_cast<int64_t>(values.size()) != dim) {
    return Status::InvalidArgument(std::string(name) +
                                   " codec: " + std::to_string(values.size()) +
                                   " values, expected " + std::to_string(dim));
  }
  out->resize(values.size() * 2);
  uint8_t* bytes = out->data();
  const float* x = values.data();
  const size_t size = values.size();
  for (size_t i = 0; i < size; ++i) {
    const uint16_t half = to_half(x[i]);
    std::memcpy(bytes + 2 * i, &half, 2);
  }
  return Status::Ok();
}

// Decodes 2 bytes per coordinate into `out` (size `dim`); DataLoss when the
// payload is not exactly that long.
template <typename ToFloat>
Status DecodeHalfWidth(const char* name, int64_t dim,
                       std::span<const uint8_t> bytes, std::span<float> out,
                       ToFloat to_float) {
  if (static_cast<int64_t>(out.size()) != dim) {
    return Status::InvalidArgument(std::string(name) + " codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim));
  }
  const size_t expected = out.size() * 2;
  if (bytes.size() != expected) {
    return Status::DataLoss(
        std::string(name) + " payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") +
        "; 2 bytes per coordinate, dimension " + std::to_string(dim) + ")");
  }
  const uint8_t* in = bytes.data();
  float* y = out.data();
  const size_t size = out.size();
  for (size_t i = 0; i < size; ++i) {
    uint16_t half = 0;
    std::memcpy(&half, in + 2 * i, 2);
    y[i] = to_float(half);
  }
  return Status::Ok();
}

}  // namespace anchorage::codec::internal
