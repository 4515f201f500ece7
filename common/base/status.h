// Status and StatusOr: the result of an operation that can fail for reasons
// the caller should handle (bad input, a peer that went away, a timeout).
// Programming errors are not Statuses: they are ANCHORAGE_CHECK failures.
//
// Thread-safety: values; safe to copy and move between threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/base/check.h"

namespace anchorage {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,     // bad flag, config value or request field
    kNotFound,            // unknown worker, key or file
    kFailedPrecondition,  // valid request in the wrong state (stale round)
    kUnavailable,         // peer or socket gone; retrying may help
    kDeadlineExceeded,    // timed out
    kOutOfRange,          // a value past what the state can take
    kDataLoss,            // bytes that fail verification
    kInternal,            // a bug noticed at a boundary
  };

  Status() = default;
  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string_view message) {
    return {Code::kInvalidArgument, message};
  }
  static Status NotFound(std::string_view message) {
    return {Code::kNotFound, message};
  }
  static Status FailedPrecondition(std::string_view message) {
    return {Code::kFailedPrecondition, message};
  }
  static Status Unavailable(std::string_view message) {
    return {Code::kUnavailable, message};
  }
  static Status DeadlineExceeded(std::string_view message) {
    return {Code::kDeadlineExceeded, message};
  }
  static Status OutOfRange(std::string_view message) {
    return {Code::kOutOfRange, message};
  }
  static Status DataLoss(std::string_view message) {
    return {Code::kDataLoss, message};
  }
  static Status Internal(std::string_view message) {
    return {Code::kInternal, message};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns "OK" or "<CODE>: <message>".
  std::string ToString() const;

 private:
  Status(Code code, std::string_view message)
      : code_(code), message_(message) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or the Status explaining why there is none. Accessing the
// value of a non-ok StatusOr is a programming error and aborts.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Implicit on purpose, so `return Status::...;` and `return value;` work.
  StatusOr(Status status)  // NOLINT(google-explicit-constructor): as absl
      : state_(std::move(status)) {
    ANCHORAGE_CHECK(!std::get<Status>(state_).ok(),
                    "StatusOr built from an OK status");
  }
  StatusOr(T value)  // NOLINT(google-explicit-constructor): as absl
      : state_(std::move(value)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  Status status() const {
    return ok() ? Status::Ok() : std::get<Status>(state_);
  }
  const T& value() const& {
    ANCHORAGE_CHECK(ok(), "value() of a failed StatusOr");
    return std::get<T>(state_);
  }
  T& value() & {
    ANCHORAGE_CHECK(ok(), "value() of a failed StatusOr");
    return std::get<T>(state_);
  }
  T&& value() && {
    ANCHORAGE_CHECK(ok(), "value() of a failed StatusOr");
    return std::get<T>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace anchorage
