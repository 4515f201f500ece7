// A checkpoint file as the loader reads it: magic, format, body length,
// CRC-32, and every field of the body.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)anchorage::io::DecodeCheckpoint(std::span<const uint8_t>(data, size),
                                        "fuzz");
  return 0;
}
