// Eigen aliases for Anchorage's float32 tensors. Models, data and the
// algorithm core keep parameters as one flat float vector and view it with
// these maps, so nothing is copied between layers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace anchorage {

using Vector = Eigen::VectorXf;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;
using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixMap = Eigen::Map<RowMatrix>;
using ConstRowMatrixMap = Eigen::Map<const RowMatrix>;

// A float buffer aligned for Eigen's widest vector loads. Parameters live in
// one, so GEMM kernels take the same path (and round the same way) for
// every copy of a model, whatever malloc returned.
using AlignedVector = std::vector<float, Eigen::aligned_allocator<float>>;

inline VectorMap AsVector(std::span<float> values) {
  return {values.data(), static_cast<Eigen::Index>(values.size())};
}
inline ConstVectorMap AsVector(std::span<const float> values) {
  return {values.data(), static_cast<Eigen::Index>(values.size())};
}

}  // namespace anchorage
