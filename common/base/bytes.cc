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

void ByteWriter::Floats(std::span<const float> values) {
  U64(values.size());
  Raw(values.data(), values.size_bytes());
}

void ByteWriter::Doubles(std::span<const double> values) {
  U64(values.size());
  Raw(values.data(), values.size_bytes());
}

void ByteWriter::U32s(std::span<const uint32_t> values) {
  U64(values.size());
  Raw(values.data(), values.size_bytes());
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

uint8_t ByteReader::U8() {
  uint8_t value = 0;
  Take(&value, sizeof(value));
  return value;
}

uint32_t ByteReader::U32() {
  uint32_t value = 0;
  Take(&value, sizeof(value));
  return value;
}

uint64_t ByteReader::U64() {
  uint64_t value = 0;
  Take(&value, sizeof(value));
  return value;
}

int64_t ByteReader::I64() {
  int64_t value = 0;
  Take(&value, sizeof(value));
  return value;
}

double ByteReader::F64() {
  double value = 0;
  Take(&value, sizeof(value));
  return value;
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

Status ByteReader::Finish() {
  if (status_.ok() && remaining() > 0) {
    Fail(std::to_string(remaining()) + " trailing bytes");
  }
  return status_;
}

}  // namespace anchorage
