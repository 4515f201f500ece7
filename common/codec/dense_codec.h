// DenseCodec: float32 values as little-endian bytes, 4 bytes per coordinate.
// The baseline every compressed codec is measured against.
#pragma once

#include "common/codec/codec.h"

namespace anchorage::codec {

class DenseCodec final : public Codec {
 public:
  explicit DenseCodec(int64_t dim) : dim_(dim) {}

  std::string_view name() const override { return "dense"; }
  int64_t dim() const override { return dim_; }
  bool lossless() const override { return true; }
  Status Encode(std::span<const float> values,
                std::vector<uint8_t>* out) override;
  Status Decode(std::span<const uint8_t> bytes,
                std::span<float> out) const override;

 private:
  int64_t dim_;
};

}  // namespace anchorage::codec
