// The tensor payload codec interface: how a float32 vector becomes the bytes
// of a payload frame and back. Each codec is one file behind this interface
// and one line in codec.cc's registry.
//
// Encode may keep state (error feedback, step counters), so a codec instance
// belongs to one sender. Decode is const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace anchorage::codec {

class Codec {
 public:
  virtual ~Codec() = default;

  // The name used on the command line and on the wire ("dense").
  virtual std::string_view name() const = 0;

  // Replaces *out with the encoding of `values` (size = the codec's
  // dimension). Returns InvalidArgument on a size mismatch.
  virtual Status Encode(std::span<const float> values,
                        std::vector<uint8_t>* out) = 0;

  // Decodes `bytes` into `out` (size = the codec's dimension). `bytes` may be
  // at any address. Returns DataLoss naming the problem when the bytes are
  // malformed (wrong size, out-of-range fields); `out` is then unspecified.
  virtual Status Decode(std::span<const uint8_t> bytes,
                        std::span<float> out) const = 0;

  // Bytes a dense float32 encoding of the same vector takes.
  int64_t raw_bytes() const { return dim() * static_cast<int64_t>(sizeof(float)); }
  virtual int64_t dim() const = 0;
};

// Returns the codec called `name` for vectors of `dim` floats, or
// InvalidArgument naming the value and the known codecs.
StatusOr<std::unique_ptr<Codec>> MakeCodec(std::string_view name, int64_t dim);

// Returns InvalidArgument unless `name` is a known codec.
Status ValidateCodecName(std::string_view name);

}  // namespace anchorage::codec
