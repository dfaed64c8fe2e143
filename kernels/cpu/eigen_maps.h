#pragma once
// Row-major Eigen views over raw buffers, as the CPU GEMM-based ops use them.
#include <Eigen/Core>

namespace thaw::cpu {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMat<T>>;
template <typename T>
using MutMap = Eigen::Map<RowMat<T>>;
// A block of columns of a larger row-major matrix (row stride ld).
template <typename T>
using ConstTile = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutTile = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

}  // namespace thaw::cpu
