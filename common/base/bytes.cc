#include "common/base/bytes.h"

#include <cstring>

namespace anchorage {

void ByteWriter::Raw(const void* data, size_t size) {
  const auto* begin = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), begin, begin + size);
}

void ByteWriter::String(std::string_view text) {
  U64(text.size());
  Raw(text.data(), text.size());
}

bool ByteReader::Take(void* out, size_t size) {
  if (!status_.ok()) {
    std::memset(out, 0, size);
    return false;
  }
  if (size > remaining()) {
    Fail("truncated: " + std::to_string(size) + " bytes wanted at offset " +
         std::to_string(offset_) + ", " + std::to_string(remaining()) +
         " left");
    std::memset(out, 0, size);
    return false;
  }
  std::memcpy(out, bytes_.data() + offset_, size);
  offset_ += size;
  return true;
}

void ByteReader::Fail(std::string_view problem) {
  if (status_.ok()) status_ = Status::DataLoss(problem);
}

bool ByteReader::Bool() {
  const uint8_t value = U8();
  if (value > 1) Fail("a boolean byte of " + std::to_string(value));
  return value == 1;
}

std::string ByteReader::String(size_t max_bytes) {
  const uint64_t size = U64();
  if (size > max_bytes || size > remaining()) {
    Fail("a string of " + std::to_string(size) + " bytes with " +
         std::to_string(remaining()) + " left");
    return {};
  }
  std::string text(size, '\0');
  Take(text.data(), size);
  return text;
}

template <typename T>
void ByteReader::Array(std::vector<T>* out, uint64_t max_count) {
  const uint64_t count = U64();
  if (count > max_count || count > remaining() / sizeof(T)) {
    Fail("a list of " + std::to_string(count) + " values with " +
         std::to_string(remaining()) + " bytes left (at most " +
         std::to_string(max_count) + " expected)");
    out->clear();
    return;
  }
  out->resize(count);
  Take(out->data(), count * sizeof(T));
}

void ByteReader::Floats(std::vector<float>* out, uint64_t max_count) {
  Array(out, max_count);
}

void ByteReader::Doubles(std::vector<double>* out, uint64_t max_count) {
  Array(out, max_count);
}

void ByteReader::U32s(std::vector<uint32_t>* out, uint64_t max_count) {
  Array(out, max_count);
}

void ByteReader::U8s(std::vector<uint8_t>* out, uint64_t max_count) {
  Array(out, max_count);
}

Status ByteReader::Finish() {
  if (status_.ok() && remaining() > 0) {
    Fail(std::to_string(remaining()) + " trailing bytes");
  }
  return status_;
}

}  // namespace anchorage
