#include "common/codec/error_accumulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/base/check.h"
#include "common/base/format.h"

namespace anchorage::codec {
namespace {

// False for NaN as well as for infinities; no branch, so loops vectorise.
inline uint32_t NotFinite(float value) {
  return std::fabs(value) <= std::numeric_limits<float>::max() ? 0U : 1U;
}

}  // namespace

Status CheckVectorSize(std::string_view codec, size_t size, int64_t dim,
                       const char* what) {
  if (static_cast<int64_t>(size) == dim) return Status::Ok();
  return Status::InvalidArgument(std::string(codec) + " codec: " + what +
                                 " has " + std::to_string(size) +
                                 " floats, expected " + std::to_string(dim));
}

Status CheckAllFinite(std::string_view codec, std::span<const float> values) {
  uint32_t non_finite = 0;
  for (const float value : values) {
    non_finite |= NotFinite(value);
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

ErrorAccumulator::ErrorAccumulator(std::string_view codec, int64_t dim,
                                   double momentum)
    : codec_(codec),
      rho_(static_cast<float>(momentum)),
      momentum_(
          [&] {
            // Checked before the dim-sized members are allocated.
            ANCHORAGE_CHECK(dim >= 1, "error accumulator of no dimension");
            ANCHORAGE_CHECK(momentum >= 0 && momentum < 1,
                            "error accumulator momentum out of [0, 1)");
            return static_cast<size_t>(dim);
          }(),
          0.0F),
      accumulated_(static_cast<size_t>(dim), 0.0F) {}

Status ErrorAccumulator::Accumulate(std::span<const float> g) {
  Status status = CheckVectorSize(codec_, g.size(), dim(), "input");
  if (!status.ok()) return status;
  const size_t size = g.size();
  float* u = momentum_.data();
  float* v = accumulated_.data();
  // First pass: would the new v be finite? (A non-finite g or an overflow
  // of u makes it non-finite too.) Nothing changes unless it is.
  uint32_t non_finite = 0;
  for (size_t i = 0; i < size; ++i) {
    non_finite |= NotFinite(v[i] + (rho_ * u[i] + g[i]));
  }
  if (non_finite != 0) {
    status = CheckAllFinite(codec_, g);
    if (!status.ok()) return status;
    for (size_t i = 0; i < size; ++i) {
      if (std::isfinite(v[i] + (rho_ * u[i] + g[i]))) continue;
      return Status::InvalidArgument(
          codec_ + " codec: momentum or accumulated value at coordinate " +
          std::to_string(i) + " overflows float32");
    }
  }
  for (size_t i = 0; i < size; ++i) {
    u[i] = rho_ * u[i] + g[i];
    v[i] += u[i];
  }
  return status;
}

namespace {

// Returns DataLoss naming the first index >= dim, or OK.
Status CheckIndices(const std::string& codec, std::span<const uint32_t> indices,
                    int64_t dim) {
  const auto bad = std::find_if(indices.begin(), indices.end(),
                                [dim](uint32_t i) { return i >= dim; });
  if (bad == indices.end()) return Status::Ok();
  return Status::DataLoss(codec + " codec: index " + std::to_string(*bad) +
                          " (entry " + std::to_string(bad - indices.begin()) +
                          ") is out of range for dimension " +
                          std::to_string(dim));
}

}  // namespace

Status ErrorAccumulator::ExactValues(std::span<const uint32_t> indices,
                                     std::span<float> out) const {
  if (out.size() != indices.size()) {
    return Status::InvalidArgument(
        codec_ + " codec: " + std::to_string(indices.size()) +
        " indices but room for " + std::to_string(out.size()) + " values");
  }
  Status status = CheckIndices(codec_, indices, dim());
  if (!status.ok()) return status;
  for (size_t n = 0; n < indices.size(); ++n) {
    out[n] = accumulated_[indices[n]];
  }
  return status;
}

Status ErrorAccumulator::Applied(std::span<const uint32_t> indices) {
  Status status = CheckIndices(codec_, indices, dim());
  if (!status.ok()) return status;
  for (const uint32_t i : indices) {
    momentum_[i] = 0.0F;
    accumulated_[i] = 0.0F;
  }
  return status;
}

}  // namespace anchorage::codec
