#include "common/io/npy.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "common/io/file.h"

namespace anchorage::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

}  // namespace

Status WriteNpy(const std::string& path, std::span<const float> values) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(values.size()) + ",), }";
  // Magic (6) + version (2) + header length (2) + header, padded with spaces
  // and ended by '\n' to a multiple of 64 bytes.
  const size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  const auto length = static_cast<uint16_t>(header.size());
  std::string bytes(kMagic, kMagicSize);
  bytes +=
      {1, 0, static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()),
               values.size_bytes());
  // A reader, or a process killed mid-write, never leaves half a model.
  return WriteFileAtomically(path, bytes);
}

StatusOr<std::vector<float>> ReadNpy(const std::string& path) {
  StatusOr<std::string> read = ReadFile(path);
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  if (bytes.size() < 10 || bytes.compare(0, kMagicSize, kMagic) != 0) {
    return Status::DataLoss(path + ": not a .npy file");
  }
  const size_t header_length =
      static_cast<uint8_t>(bytes[8]) |
      (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
  if (bytes.size() < 10 + header_length) {
    return Status::DataLoss(path + ": truncated header");
  }
  const std::string header = bytes.substr(10, header_length);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    return Status::DataLoss(path + ": not a float32 C-order array");
  }
  const size_t shape = header.find("'shape': (");
  if (shape == std::string::npos) return Status::DataLoss(path + ": no shape");
  const size_t count = std::strtoull(header.c_str() + shape + 10, nullptr, 10);
  const size_t data = 10 + header_length;
  if (count > (bytes.size() - data) / sizeof(float) ||
      bytes.size() - data != count * sizeof(float)) {
    return Status::DataLoss(path + ": expected " + std::to_string(count) +
                            " floats, file holds " +
                            std::to_string(bytes.size() - data) + " bytes");
  }
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes.data() + data, count * sizeof(float));
  return values;
}

}  // namespace anchorage::io
