#include "common/codec/global_topk_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common/base/check.h"
#include "common/base/format.h"
#include "common/codec/count_sketch.h"

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the global-topk wire format is little-endian");

namespace {

constexpr int64_t kMaxDim = int64_t{1} << 32;

}  // namespace

Status GlobalTopKCodec::ValidateParams(int64_t dim, int64_t k,
                                       double momentum) {
  if (dim < 1 || dim >= kMaxDim) {
    return Status::InvalidArgument(
        "global-topk dimension must be in [1, 2^32), got " +
        std::to_string(dim));
  }
  if (k < 1 || k > dim) {
    return Status::InvalidArgument(
        "global-topk k must be in [1, " + std::to_string(dim) +
        "] (the dimension), got " + std::to_string(k));
  }
  if (!(momentum >= 0 && momentum < 1)) {
    return Status::InvalidArgument(
        "global-topk momentum must be in [0, 1), got " + FormatValue(momentum));
  }
  return Status::Ok();
}

GlobalTopKCodec::GlobalTopKCodec(int64_t dim, int64_t k, double momentum)
    : k_([&] {
        // Checked before the dim-sized state is allocated.
        ANCHORAGE_CHECK(ValidateParams(dim, k, momentum).ok(),
                        "invalid global-topk codec parameters");
        return k;
      }()),
      state_("global-topk", dim, momentum) {}

std::string GlobalTopKCodec::settings() const {
  return "k = " + std::to_string(k_);
}

Status GlobalTopKCodec::Encode(std::span<const float> values,
                               std::vector<uint8_t>* out) {
  Status status = state_.Accumulate(values);
  if (!status.ok()) return status;
  const std::span<const float> v = state_.accumulated();
  out->resize(MessageBytes(dim()));
  uint8_t* bytes = out->data();
  bytes[0] = kMagic;
  const auto dim64 = static_cast<uint64_t>(dim());
  std::memcpy(bytes + 1, &dim64, sizeof(dim64));
  std::memcpy(bytes + kHeaderBytes, v.data(), v.size_bytes());
  return status;
}

namespace {

// Checks the header and the size of a message of dimension `dim`: DataLoss
// naming the problem, else OK. The values are not read.
Status CheckFrame(std::span<const uint8_t> bytes, int64_t dim) {
  if (bytes.size() < GlobalTopKCodec::kHeaderBytes) {
    return Status::DataLoss(
        "global-topk payload has " + std::to_string(bytes.size()) +
        " bytes, shorter than the " +
        std::to_string(GlobalTopKCodec::kHeaderBytes) + "-byte header");
  }
  if (bytes[0] != GlobalTopKCodec::kMagic) {
    return Status::DataLoss("global-topk header has magic byte " +
                            std::to_string(bytes[0]) + ", expected " +
                            std::to_string(GlobalTopKCodec::kMagic));
  }
  uint64_t header_dim = 0;
  std::memcpy(&header_dim, bytes.data() + 1, sizeof(header_dim));
  if (header_dim != static_cast<uint64_t>(dim)) {
    return Status::DataLoss("global-topk header has dimension " +
                            std::to_string(header_dim) + ", expected " +
                            std::to_string(dim));
  }
  const size_t expected = GlobalTopKCodec::MessageBytes(dim);
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "global-topk payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(GlobalTopKCodec::kHeaderBytes) +
        "-byte header + 4 bytes for each of " + std::to_string(dim) +
        " values)");
  }
  return Status::Ok();
}

}  // namespace

Status GlobalTopKCodec::ReadMessage(std::span<const uint8_t> bytes,
                                    std::span<float> out) {
  Status status = CheckFrame(bytes, static_cast<int64_t>(out.size()));
  if (!status.ok()) return status;
  std::memcpy(out.data(), bytes.data() + kHeaderBytes, out.size_bytes());
  // Bytes off the wire: a value that is not finite is data loss.
  status = CheckAllFinite("global-topk", out);
  return status.ok() ? status : Status::DataLoss(status.message());
}

Status GlobalTopKCodec::Decode(std::span<const uint8_t> bytes,
                               std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim()) {
    return Status::InvalidArgument(
        "global-topk codec: output has " + std::to_string(out.size()) +
        " floats, expected " + std::to_string(dim()));
  }
  Status status = ReadMessage(bytes, out);
  if (!status.ok()) return status;
  KeepLargestMagnitudes(out, k_);
  return status;
}

std::unique_ptr<RoundProtocol> GlobalTopKCodec::NewRoundProtocol() const {
  return std::make_unique<GlobalTopKRound>(dim(), k_);
}

GlobalTopKRound::GlobalTopKRound(int64_t dim, int64_t k)
    : k_([&] {
        ANCHORAGE_CHECK(dim >= 1 && dim < kMaxDim,
                        "global-topk dimension out of range");
        ANCHORAGE_CHECK(k >= 1 && k <= dim, "global-topk k out of range");
        return k;
      }()),
      sum_(static_cast<size_t>(dim), 0.0),
      scratch_(static_cast<size_t>(dim)) {}

void GlobalTopKRound::Begin() {
  std::fill(sum_.begin(), sum_.end(), 0.0);
}

Status GlobalTopKRound::AddMessage(std::span<const uint8_t> bytes) {
  Status status = GlobalTopKCodec::ReadMessage(bytes, scratch_);
  if (!status.ok()) return status;
  for (size_t i = 0; i < sum_.size(); ++i) {
    sum_[i] += scratch_[i];
  }
  return status;
}

StatusOr<double> GlobalTopKRound::MessageNorm(
    std::span<const uint8_t> bytes) const {
  Status status = CheckFrame(bytes, static_cast<int64_t>(sum_.size()));
  if (!status.ok()) return status;
  // Read in place (the bytes may be at any address); a value that is not
  // finite makes the sum of squares NaN or infinite.
  const uint8_t* values = bytes.data() + GlobalTopKCodec::kHeaderBytes;
  double squares = 0;
  for (size_t i = 0; i < sum_.size(); ++i) {
    float value = 0;
    std::memcpy(&value, values + i * sizeof(float), sizeof(float));
    squares += static_cast<double>(value) * value;
  }
  return std::isfinite(squares) ? std::sqrt(squares)
                                : std::numeric_limits<double>::infinity();
}

const std::vector<uint32_t>& GlobalTopKRound::Candidates() {
  ANCHORAGE_CHECK(false, "global-topk has no candidates");
  static const std::vector<uint32_t> kNone;
  return kNone;
}

Status GlobalTopKRound::AddValues(std::span<const uint8_t> /*bytes*/) {
  return Status::FailedPrecondition("global-topk asks no exact values");
}

void GlobalTopKRound::Finish(const RoundScale& /*scale*/,
                             std::vector<uint32_t>* indices,
                             std::vector<float>* sums) {
  for (size_t i = 0; i < sum_.size(); ++i) {
    scratch_[i] = static_cast<float>(sum_[i]);
  }
  LargestMagnitudes(scratch_, k_, indices);
  sums->resize(indices->size());
  for (size_t m = 0; m < indices->size(); ++m) {
    (*sums)[m] = scratch_[(*indices)[m]];
  }
}

void GlobalTopKRound::Save(ByteWriter* out) const {
  out->Doubles(sum_);
}

Status GlobalTopKRound::Load(ByteReader* in) {
  const size_t dim = sum_.size();
  in->Doubles(&sum_, dim);
  if (in->ok() && sum_.size() != dim) {
    in->Fail("global-topk round: the sum has " + std::to_string(sum_.size()) +
             " values, expected " + std::to_string(dim));
  }
  if (in->ok() && !std::all_of(sum_.begin(), sum_.end(),
                               [](double s) { return std::isfinite(s); })) {
    in->Fail("global-topk round: the sum holds a value that is not finite");
  }
  if (!in->ok()) sum_.assign(dim, 0.0);
  return in->status();
}

}  // namespace anchorage::codec
