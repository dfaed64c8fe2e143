#pragma once
// Every CUDA-vs-CPU tolerance of the parity tests, as formulas, in one place. An element passes when
//   |gpu - cpu| <= rtol * |cpu| + atol
// and NaN never passes. Each test names its rule, and every comparison prints the worst ratio of
// error to allowance, so a tolerance that is far too loose shows up in the device logs.
#include <cmath>
#include <cstdint>
#include <string>

namespace thaw::cuda_test {

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
  std::string rule;  // which formula and why, for messages
};

// 2^-23, the spacing of floats in [1, 2).
constexpr double kFloatEps = 1.1920928955078125e-07;

// Bit-identical. For kernels that perform the same float operations in the same order as the CPU
// twin: selections (ReLU, max pool and its gradient routing, added in output order), copies
// (concat), one product (dropout forward) and one add of the same float (global average pool
// backward).
inline Tolerance exact() { return {0.0, 0.0, "exact (same float operations in the same order)"}; }

// A handful of float roundings per element, where the two sides may differ in operation order or
// in fusing a multiply-add (nvcc contracts to FMA; the host compiler may or may not), and where
// per-channel statistics summed in double in different orders may round to neighbouring floats
// (batch norm, pools, softmax and its gradient, bias gradients).
// Each rounding is within half an ulp of the largest intermediate, which is bounded by `scale`
// (the largest |value| of the reference output, or of the operands when they are larger):
//   rtol = 4 eps, atol = 8 eps * scale.
inline Tolerance elementwise(double scale) {
  return {4 * kFloatEps, 8 * kFloatEps * scale, "elementwise: rtol 4 eps, atol 8 eps * scale"};
}

// A float dot product of length k (GEMM, convolution) summed in different orders on the two sides
// (cuDNN/cuBLAS tiles vs Eigen's blocking), each term |a_i b_i| <= max_term. A sequential float sum
// of k zero-mean terms of rms t errs by about 0.35 eps t k (rms, the partial sums growing like
// sqrt(i) t); the inputs are uniform in [-1, 1), so t <= max_term / 3 and eps * k * max_term
// would be about 8 standard deviations of one side's error if the terms were zero-mean. Weight
// gradients break that assumption (x * dy products over a padded map are correlated, and the
// partial sums drift): on an H200 (2026-11-27) the 3x3 64->96 wgrad at 35x35 (k = 2450) reached
// 1.45 x eps * k * max|term| for one element of 55,296. Both sides round, so the bound is doubled:
//   atol = 2 eps * k * max_term,  rtol = 1e-5.
// An indexing or layout bug shows up as an error of order max_term * sqrt(k), far above this.
inline Tolerance float_dot(int64_t k, double max_term) {
  return {1e-5, 2 * kFloatEps * static_cast<double>(k) * max_term,
          "float dot product: rtol 1e-5, atol 2 eps * k * max|term| (k = " + std::to_string(k) + ")"};
}

// A scalar both sides compute in double (the loss): only libm-level differences in exp/log and the
// summation order of double sums remain.
inline Tolerance double_scalar() { return {1e-10, 0.0, "double scalar: rtol 1e-10"}; }

}  // namespace thaw::cuda_test
