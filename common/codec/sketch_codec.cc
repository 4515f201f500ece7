#include "common/codec/sketch_codec.h"

#include <string>

#include "common/base/format.h"
#include "common/codec/error_accumulator.h"
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

// Decode of both codecs: the estimates of the sketch `bytes` at its k
// heavy hitters, zeros elsewhere.
Status DecodeHeavyHitters(std::string_view codec, const SketchShape& shape,
                          int64_t k, std::span<const uint8_t> bytes,
                          std::span<float> out) {
  Status status = CheckVectorSize(codec, out.size(), shape.dim, "output");
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
      state_("sketch", shape.dim, momentum),
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
  Status status = state_.Accumulate(values);
  if (!status.ok()) return status;
  sketch_.Clear();
  sketch_.Insert(state_.accumulated());
  sketch_.Serialize(out);
  return status;
}

Status SketchCodec::Decode(std::span<const uint8_t> bytes,
                           std::span<float> out) const {
  return DecodeHeavyHitters(name(), shape_, k_, bytes, out);
}

Status SketchCodec::ExactValues(std::span<const uint32_t> indices,
                                std::span<float> out) const {
  return state_.ExactValues(indices, out);
}

Status SketchCodec::Applied(std::span<const uint32_t> indices) {
  return state_.Applied(indices);
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
  Status status = CheckVectorSize(name(), values.size(), shape_.dim, "input");
  if (!status.ok()) return status;
  status = CheckAllFinite(name(), values);
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
