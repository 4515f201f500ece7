#include "common/codec/sketch_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/base/format.h"
#include "common/codec/sketch_round.h"

namespace anchorage::codec {
namespace {

Status ValidateK(const SketchShape& shape, int64_t k) {
  Status status = CountSketch::ValidateShape(shape);
  if (!status.ok()) return status;
  if (k >= 1 && k <= shape.dim) return Status::Ok();
  return Status::InvalidArgument("sketch k must be in [1, " +
                                 std::to_string(shape.dim) +
                                 "] (the dimension), got " + std::to_string(k));
}

Status CheckSize(std::string_view codec, size_t size, int64_t dim,
                 const char* what) {
  if (static_cast<int64_t>(size) == dim) return Status::Ok();
  return Status::InvalidArgument(std::string(codec) + " codec: " + what +
                                 " has " + std::to_string(size) +
                                 " floats, expected " + std::to_string(dim));
}

// Returns InvalidArgument naming the first non-finite value, or OK.
Status CheckFinite(std::string_view codec, std::span<const float> values) {
  uint32_t non_finite = 0;
  for (const float value : values) {
    // False for NaN as well as for infinities.
    non_finite |=
        std::fabs(value) <= std::numeric_limits<float>::max() ? 0U : 1U;
  }
  if (non_finite == 0) return Status::Ok();
  const auto bad = std::find_if(values.begin(), values.end(), [](float value) {
    return !std::isfinite(value);
  });
  return Status::InvalidArgument(std::string(codec) +
                                 " codec: value at coordinate " +
                                 std::to_string(bad - values.begin()) + " is " +
                                 FormatValue(*bad) + ", not finite");
}

// Decode of both codecs: the estimates of the sketch `bytes` at its k
// heavy hitters, zeros elsewhere.
Status DecodeHeavyHitters(std::string_view codec, const SketchShape& shape,
                          int64_t k, std::span<const uint8_t> bytes,
                          std::span<float> out) {
  Status status = CheckSize(codec, out.size(), shape.dim, "output");
  if (!status.ok()) return status;
  CountSketch sketch(shape);
  status = sketch.MergeSerialized(bytes);
  if (!status.ok()) {
    const std::string message =
        std::string(codec) + " codec: " + status.message();
    return status.code() == Status::Code::kInvalidArgument
               ? Status::InvalidArgument(message)
               : Status::DataLoss(message);
  }
  sketch.EstimateAll(out);
  KeepLargestMagnitudes(out, k);
  return status;
}

// Returns DataLoss naming the first index >= dim, or OK.
Status CheckIndices(std::span<const uint32_t> indices, int64_t dim) {
  const auto bad = std::find_if(indices.begin(), indices.end(),
                                [dim](uint32_t i) { return i >= dim; });
  if (bad == indices.end()) return Status::Ok();
  return Status::DataLoss("sketch codec: index " + std::to_string(*bad) +
                          " (entry " + std::to_string(bad - indices.begin()) +
                          ") is out of range for dimension " +
                          std::to_string(dim));
}

}  // namespace

SketchCodec::SketchCodec(const SketchShape& shape, int64_t k,
                         int candidates_factor, double momentum)
    : shape_([&] {
        // Checked before the dim-sized members are allocated.
        ANCHORAGE_CHECK(
            ValidateParams(shape, k, candidates_factor, momentum).ok(),
            "invalid sketch codec parameters");
        return shape;
      }()),
      k_(k),
      candidates_factor_(candidates_factor),
      rho_(static_cast<float>(momentum)),
      momentum_(static_cast<size_t>(shape.dim), 0.0F),
      accumulated_(static_cast<size_t>(shape.dim), 0.0F),
      sketch_(shape) {}

Status SketchCodec::ValidateParams(const SketchShape& shape, int64_t k,
                                   int candidates_factor, double momentum) {
  Status status = ValidateK(shape, k);
  if (!status.ok()) return status;
  if (candidates_factor < 1) {
    return Status::InvalidArgument(
        "sketch candidates factor P must be >= 1, got " +
        std::to_string(candidates_factor));
  }
  if (!(momentum >= 0 && momentum < 1)) {
    return Status::InvalidArgument("sketch momentum must be in [0, 1), got " +
                                   FormatValue(momentum));
  }
  return status;
}

Status SketchCodec::Encode(std::span<const float> values,
                           std::vector<uint8_t>* out) {
  Status status = CheckSize(name(), values.size(), shape_.dim, "input");
  if (!status.ok()) return status;
  const size_t size = values.size();
  const float* g = values.data();
  float* u = momentum_.data();
  float* v = accumulated_.data();
  // First pass: would the new v be finite? (A non-finite g or an overflow
  // of u makes it non-finite too.) Nothing changes unless it is.
  uint32_t non_finite = 0;
  for (size_t i = 0; i < size; ++i) {
    const float next = v[i] + (rho_ * u[i] + g[i]);
    non_finite |=
        std::fabs(next) <= std::numeric_limits<float>::max() ? 0U : 1U;
  }
  if (non_finite != 0) {
    status = CheckFinite(name(), values);
    if (!status.ok()) return status;
    for (size_t i = 0; i < size; ++i) {
      if (std::isfinite(v[i] + (rho_ * u[i] + g[i]))) continue;
      return Status::InvalidArgument(
          "sketch codec: momentum or accumulated value at coordinate " +
          std::to_string(i) + " overflows float32");
    }
  }
  for (size_t i = 0; i < size; ++i) {
    u[i] = rho_ * u[i] + g[i];
    v[i] += u[i];
  }
  sketch_.Clear();
  sketch_.Insert(accumulated_);
  sketch_.Serialize(out);
  return status;
}

Status SketchCodec::Decode(std::span<const uint8_t> bytes,
                           std::span<float> out) const {
  return DecodeHeavyHitters(name(), shape_, k_, bytes, out);
}

Status SketchCodec::ExactValues(std::span<const uint32_t> indices,
                                std::span<float> out) const {
  if (out.size() != indices.size()) {
    return Status::InvalidArgument(
        "sketch codec: " + std::to_string(indices.size()) +
        " indices but room for " + std::to_string(out.size()) + " values");
  }
  Status status = CheckIndices(indices, shape_.dim);
  if (!status.ok()) return status;
  for (size_t n = 0; n < indices.size(); ++n) {
    out[n] = accumulated_[indices[n]];
  }
  return status;
}

Status SketchCodec::Applied(std::span<const uint32_t> indices) {
  Status status = CheckIndices(indices, shape_.dim);
  if (!status.ok()) return status;
  for (const uint32_t i : indices) {
    momentum_[i] = 0.0F;
    accumulated_[i] = 0.0F;
  }
  return status;
}

std::unique_ptr<RoundProtocol> SketchCodec::NewRoundProtocol() const {
  return std::make_unique<SketchedSgdRound>(shape_, k_, candidates_factor_);
}

FetchSgdCodec::FetchSgdCodec(const SketchShape& shape, int64_t k,
                             double momentum)
    : shape_([&] {
        ANCHORAGE_CHECK(ValidateParams(shape, k).ok(),
                        "invalid fetchsgd codec parameters");
        ANCHORAGE_CHECK(momentum >= 0 && momentum < 1,
                        "fetchsgd momentum out of [0, 1)");
        return shape;
      }()),
      k_(k),
      momentum_(momentum),
      sketch_(shape) {}

std::unique_ptr<RoundProtocol> FetchSgdCodec::NewRoundProtocol() const {
  return std::make_unique<FetchSgdServer>(shape_, k_, momentum_);
}

Status FetchSgdCodec::ValidateParams(const SketchShape& shape, int64_t k) {
  return ValidateK(shape, k);
}

Status FetchSgdCodec::Encode(std::span<const float> values,
                             std::vector<uint8_t>* out) {
  Status status = CheckSize(name(), values.size(), shape_.dim, "input");
  if (!status.ok()) return status;
  status = CheckFinite(name(), values);
  if (!status.ok()) return status;
  sketch_.Clear();
  sketch_.Insert(values);
  sketch_.Serialize(out);
  return status;
}

Status FetchSgdCodec::Decode(std::span<const uint8_t> bytes,
                             std::span<float> out) const {
  return DecodeHeavyHitters(name(), shape_, k_, bytes, out);
}

namespace {

std::string ShapeText(const SketchShape& shape, int64_t k) {
  return std::to_string(shape.rows) + " x " + std::to_string(shape.columns) +
         " sketch, k = " + std::to_string(k);
}

}  // namespace

std::string SketchCodec::settings() const {
  return ShapeText(shape_, k_) + ", P = " + std::to_string(candidates_factor_) +
         ", hash seed " + std::to_string(shape_.seed);
}

std::string FetchSgdCodec::settings() const {
  return ShapeText(shape_, k_) + ", hash seed " + std::to_string(shape_.seed);
}

}  // namespace anchorage::codec
