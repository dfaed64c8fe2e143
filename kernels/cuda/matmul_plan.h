#pragma once
// One fp32 GEMM problem on cuBLASLt, column-major as cuBLAS sees it: C[m, n] = alpha * op(A) op(B)
// + beta * C. The algorithm is the first one cuBLASLt's heuristic returns for the shape among those
// with no split-K reduction (so each output is one dot product in one fixed order), with pure FP32
// compute (no TF32). The heuristic never times anything: the choice depends only on the shape, the
// device and the library version, and describe() says what it was.
#include <cublasLt.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "kernels/cuda/plan_cache.h"

namespace thaw::cuda {

class Context;

struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 1, n = 1, k = 1;
  int64_t lda = 1, ldb = 1, ldc = 1;
  bool tf32 = false;  // CUBLAS_COMPUTE_32F_FAST_TF32 instead of strict CUBLAS_COMPUTE_32F
  std::string key() const;
};

class MatmulPlan : public CachedPlan {
 public:
  MatmulPlan(Context& ctx, const GemmShape& shape);
  MatmulPlan(const MatmulPlan&) = delete;
  MatmulPlan& operator=(const MatmulPlan&) = delete;

  // beta 0 never reads c.
  void run(Context& ctx, const float* a, const float* b, float* c, float beta) const;
  std::string describe() const override { return description_; }

 private:
  struct DescDeleter {
    void operator()(cublasLtMatmulDesc_t d) const;
  };
  struct LayoutDeleter {
    void operator()(cublasLtMatrixLayout_t l) const;
  };
  using DescPtr = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulDesc_t>, DescDeleter>;
  using LayoutPtr = std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>, LayoutDeleter>;

  GemmShape shape_;
  DescPtr op_;
  LayoutPtr a_, b_, c_;
  cublasLtMatmulAlgo_t algo_{};
  size_t workspace_bytes_ = 0;
  std::string description_;
};

// The cached plan for `shape`, built on first use.
const MatmulPlan& matmul_plan(Context& ctx, const GemmShape& shape);

}  // namespace thaw::cuda
