#include "kernels/cuda/matmul_plan.h"

#include <vector>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace thaw::cuda {

namespace {

constexpr int kHeuristicResults = 16;

uint32_t algo_field(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  uint32_t v = 0;
  size_t written = 0;
  if (cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof(v), &written) != CUBLAS_STATUS_SUCCESS) return 0;
  return v;
}

struct PreferenceDeleter {
  void operator()(cublasLtMatmulPreference_t p) const { THAW_CUBLAS_LOG(cublasLtMatmulPreferenceDestroy(p)); }
};
using PreferencePtr = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulPreference_t>, PreferenceDeleter>;

}  // namespace

void MatmulPlan::DescDeleter::operator()(cublasLtMatmulDesc_t d) const {
  THAW_CUBLAS_LOG(cublasLtMatmulDescDestroy(d));
}
void MatmulPlan::LayoutDeleter::operator()(cublasLtMatrixLayout_t l) const {
  THAW_CUBLAS_LOG(cublasLtMatrixLayoutDestroy(l));
}

std::string GemmShape::key() const {
  return cat_str("gemm ", tf32 ? "tf32 " : "fp32 ", trans_a ? "T" : "N", trans_b ? "T" : "N", " m", m, " n", n, " k", k, " lda", lda,
                 " ldb", ldb, " ldc", ldc);
}

MatmulPlan::MatmulPlan(Context& ctx, const GemmShape& s) : shape_(s) {
  const std::string what = s.key();
  THAW_CHECK(s.m >= 1 && s.n >= 1 && s.k >= 1, "empty GEMM: ", what);
  const cublasOperation_t ta = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasLtMatmulDesc_t op = nullptr;
  // CUBLAS_COMPUTE_32F is strict FP32: TF32 only ever comes with the *_FAST_TF32 compute types.
  const cublasComputeType_t compute = s.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  THAW_CUBLAS_CHECK_CTX(cublasLtMatmulDescCreate(&op, compute, CUDA_R_32F), what);
  op_.reset(op);
  THAW_CUBLAS_CHECK_CTX(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)), what);
  THAW_CUBLAS_CHECK_CTX(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)), what);
  // Layouts describe the matrices as stored, before op().
  const uint64_t a_rows = s.trans_a ? s.k : s.m, a_cols = s.trans_a ? s.m : s.k;
  const uint64_t b_rows = s.trans_b ? s.n : s.k, b_cols = s.trans_b ? s.k : s.n;
  cublasLtMatrixLayout_t l = nullptr;
  THAW_CUBLAS_CHECK_CTX(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, a_rows, a_cols, s.lda), what);
  a_.reset(l);
  THAW_CUBLAS_CHECK_CTX(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, b_rows, b_cols, s.ldb), what);
  b_.reset(l);
  THAW_CUBLAS_CHECK_CTX(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, s.m, s.n, s.ldc), what);
  c_.reset(l);

  // Without split-K first; if the library offers nothing, allow split-K whose partial sums are
  // reduced in a separate, ordered step (never the in-place scheme).
  const uint32_t masks[2] = {CUBLASLT_REDUCTION_SCHEME_NONE,
                             CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE | CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE};
  const uint64_t ws_limit = ctx.workspace_limit();
  for (uint32_t mask : masks) {
    cublasLtMatmulPreference_t raw = nullptr;
    THAW_CUBLAS_CHECK_CTX(cublasLtMatmulPreferenceCreate(&raw), what);
    const PreferencePtr pref(raw);
    THAW_CUBLAS_CHECK_CTX(cublasLtMatmulPreferenceSetAttribute(raw, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                               &ws_limit, sizeof(ws_limit)),
                          what);
    THAW_CUBLAS_CHECK_CTX(
        cublasLtMatmulPreferenceSetAttribute(raw, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &mask, sizeof(mask)),
        what);
    std::vector<cublasLtMatmulHeuristicResult_t> results(kHeuristicResults);
    int returned = 0;
    const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(ctx.cublaslt(), op, a_.get(), b_.get(), c_.get(),
                                                             c_.get(), raw, kHeuristicResults, results.data(),
                                                             &returned);
    // NOT_SUPPORTED means "nothing under this mask": try the next one.
    if (st == CUBLAS_STATUS_NOT_SUPPORTED) continue;
    THAW_CUBLAS_CHECK_CTX(st, what);
    for (int i = 0; i < returned; ++i) {
      if (results[i].state != CUBLAS_STATUS_SUCCESS || results[i].workspaceSize > ws_limit) continue;
      algo_ = results[i].algo;
      workspace_bytes_ = results[i].workspaceSize;
      description_ = cat_str(
          "cublasLt algo ", static_cast<int32_t>(algo_field(algo_, CUBLASLT_ALGO_CONFIG_ID)), " tile ",
          algo_field(algo_, CUBLASLT_ALGO_CONFIG_TILE_ID), " stages ", algo_field(algo_, CUBLASLT_ALGO_CONFIG_STAGES_ID),
          " splitk ", static_cast<int32_t>(algo_field(algo_, CUBLASLT_ALGO_CONFIG_SPLITK_NUM)), " reduction ",
          algo_field(algo_, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME), " swizzle ",
          algo_field(algo_, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING), " custom ",
          algo_field(algo_, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION), " ws ", workspace_bytes_, "B (heuristic rank ", i,
          " of ", returned, ", reduction mask ", mask, ")");
      return;
    }
  }
  fail_internal("cuBLASLt offers no algorithm for ", what, " within ", ws_limit,
                " bytes of workspace without in-place split-K");
}

void MatmulPlan::run(Context& ctx, const float* a, const float* b, float* c, float beta) const {
  const float alpha = 1.0f;
  void* ws = ctx.workspace(workspace_bytes_);
  THAW_CUBLAS_CHECK_CTX(cublasLtMatmul(ctx.cublaslt(), op_.get(), &alpha, a, a_.get(), b, b_.get(), &beta, c,
                                       c_.get(), c, c_.get(), &algo_, ws, workspace_bytes_, ctx.stream()),
                        shape_.key());
}

const MatmulPlan& matmul_plan(Context& ctx, const GemmShape& shape) {
  const std::string key = shape.key();
  CachedPlan* p = ctx.plans().find(key);
  if (!p) p = ctx.plans().insert(key, std::make_unique<MatmulPlan>(ctx, shape));
  const auto* plan = dynamic_cast<const MatmulPlan*>(p);
  THAW_CHECK(plan != nullptr, "plan cache entry '", key, "' is not a GEMM plan");
  return *plan;
}

}  // namespace thaw::cuda
