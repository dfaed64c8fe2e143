#pragma once
// The float matrix product of the CPU convolutions: C (+)= A B, where every element of C is the same
// sequence of roundings whatever the matrices' sizes, tiling, batching or thread: the inner
// dimension is taken in blocks of kGemmBlockK, each block summed by one fused multiply-add chain
// from zero in ascending order, and the block sums added to C in order. So a column of C depends on
// its own column of B (and A) only: convolutions may put several samples side by side in one
// product (more columns, far less packing per flop) and a sample's result keeps its bits; and work
// cut by shape gives the same bits on 1, 2 or 3 threads.
//
// Operands are views (MatView) with a stride per dimension and, optionally, a grouping of one
// dimension: index x maps to (x / group) * group_stride + (x % group) * stride, which is how a
// batch of NCHW samples looks as one matrix with samples side by side.
#include <cstdint>

namespace thaw::cpu {

inline constexpr int64_t kGemmBlockK = 256;

// One dimension of a view: element offset of index x.
struct Dim {
  int64_t stride = 1;
  int64_t group = 0;  // > 0: indices in groups of this many, group_stride apart
  int64_t group_stride = 0;
  int64_t at(int64_t x) const { return group > 0 ? (x / group) * group_stride + (x % group) * stride : x * stride; }
};

struct MatView {
  const float* data = nullptr;
  Dim rows, cols;
  float at(int64_t i, int64_t j) const { return data[rows.at(i) + cols.at(j)]; }
};

struct MutView {
  float* data = nullptr;
  Dim rows, cols;
  float& at(int64_t i, int64_t j) const { return data[rows.at(i) + cols.at(j)]; }
};

// Row-major views.
inline MatView rows_of(const float* p, int64_t ld) { return {p, {ld, 0, 0}, {1, 0, 0}}; }
inline MutView out_rows(float* p, int64_t ld) { return {p, {ld, 0, 0}, {1, 0, 0}}; }
// The transpose of a row-major matrix.
inline MatView transposed(const float* p, int64_t ld) { return {p, {1, 0, 0}, {ld, 0, 0}}; }

// C[m x n] = A[m x k] B[k x n] (accumulate: C += A B, the block sums added to C's values).
// Single-threaded: callers parallelise over their own shape-defined work items.
void gemm(int64_t m, int64_t n, int64_t k, const MatView& a, const MatView& b, const MutView& c, bool accumulate);

// The definition, element by element (tests): what gemm must equal bit for bit.
void gemm_reference(int64_t m, int64_t n, int64_t k, const MatView& a, const MatView& b, const MutView& c,
                    bool accumulate);

}  // namespace thaw::cpu
