// ByteWriter and ByteReader: the little-endian binary form of state that
// must outlive a process (the round core's state, a checkpoint's body).
// Fixed-width integers, IEEE doubles and floats, length-prefixed strings and
// vectors; nothing is aligned, so a reader works on bytes at any address.
//
// A reader never reads past its end: every read past it, and every length
// prefix larger than what is left, makes the reader fail (ok() false, with
// the first problem in status()) and return zeros from then on, so a caller
// decodes a whole structure and checks once at the end. Vector lengths are
// also bounded by the caller's `max_count`, so a corrupt length cannot make
// a reader allocate more than the input could hold.
//
// Thread-safety: values; one thread each.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace anchorage {

static_assert(std::endian::native == std::endian::little,
              "the binary state format is written as this machine's bytes");

class ByteWriter {
 public:
  void U8(uint8_t value) { Raw(&value, 1); }
  void U32(uint32_t value) { Raw(&value, sizeof(value)); }
  void U64(uint64_t value) { Raw(&value, sizeof(value)); }
  void I64(int64_t value) { Raw(&value, sizeof(value)); }
  void F64(double value) { Raw(&value, sizeof(value)); }
  void Bool(bool value) { U8(value ? 1 : 0); }
  void String(std::string_view text);
  // A u64 count, then the elements.
  void Floats(std::span<const float> values) { Array(values); }
  void Doubles(std::span<const double> values) { Array(values); }
  void U32s(std::span<const uint32_t> values) { Array(values); }
  void U8s(std::span<const uint8_t> values) { Array(values); }
  template <typename Scalar>
  void Scalars(std::span<const Scalar> values) {
    if constexpr (sizeof(Scalar) == sizeof(float)) {
      Floats(values);
    } else {
      Doubles(values);
    }
  }

  // Reserves room for `bytes` in all, so a large state is copied once
  // (reserved pages that are never written cost no memory).
  void Reserve(size_t bytes) { bytes_.reserve(bytes); }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void Raw(const void* data, size_t size);
  template <typename T>
  void Array(std::span<const T> values) {
    U64(values.size());
    Raw(values.data(), values.size_bytes());
  }
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint8_t U8() { return Value<uint8_t>(); }
  uint32_t U32() { return Value<uint32_t>(); }
  uint64_t U64() { return Value<uint64_t>(); }
  int64_t I64() { return Value<int64_t>(); }
  double F64() { return Value<double>(); }
  bool Bool();
  std::string String(size_t max_bytes = 1 << 20);
  // Reads a u64 count and that many elements into *out; fails when the
  // count exceeds `max_count` or what is left.
  void Floats(std::vector<float>* out, uint64_t max_count);
  void Doubles(std::vector<double>* out, uint64_t max_count);
  void U32s(std::vector<uint32_t>* out, uint64_t max_count);
  void U8s(std::vector<uint8_t>* out, uint64_t max_count);
  template <typename Scalar>
  void Scalars(std::vector<Scalar>* out, uint64_t max_count) {
    if constexpr (sizeof(Scalar) == sizeof(float)) {
      Floats(out, max_count);
    } else {
      Doubles(out, max_count);
    }
  }
  // Marks the reader failed with `problem` (a check of the caller's).
  void Fail(std::string_view problem);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  // Fails unless every byte was read ("N trailing bytes").
  Status Finish();

 private:
  bool Take(void* out, size_t size);
  template <typename T>
  T Value() {
    T value{};
    Take(&value, sizeof(value));
    return value;
  }
  template <typename T>
  void Array(std::vector<T>* out, uint64_t max_count);

  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
  Status status_;
};

}  // namespace anchorage
