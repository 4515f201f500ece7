// Splits a fuzzer's input into frames: a frame count byte, then for each
// frame a little-endian u16 length and that many bytes (the last frame
// takes what is left). The same layout fuzz_corpus writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <zmq.hpp>

namespace anchorage::fuzz {

inline std::vector<zmq::message_t> SplitFrames(const uint8_t* data,
                                               size_t size) {
  std::vector<zmq::message_t> frames;
  if (size == 0) return frames;
  const size_t count = 1 + data[0] % 8;
  size_t at = 1;
  for (size_t n = 0; n < count && at <= size; ++n) {
    size_t length = size - at;
    if (n + 1 < count && at + 2 <= size) {
      uint16_t claimed = 0;
      std::memcpy(&claimed, data + at, 2);
      at += 2;
      length = std::min<size_t>(claimed, size - at);
    }
    frames.emplace_back(data + at, length);
    at += length;
  }
  return frames;
}

}  // namespace anchorage::fuzz
