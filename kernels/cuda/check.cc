#include "kernels/cuda/check.h"

#include <cstdio>

#include "core/error.h"

namespace thaw::cuda {

namespace {

std::string where(const char* call, const char* file, int line, std::string_view context) {
  std::string s = cat_str(file, ":", line, ": ", call, " failed");
  if (!context.empty()) s += cat_str(" [", context, "]");
  return s;
}

}  // namespace

const char* cudnn_status_category(cudnnStatus_t status) {
  switch (CUDNN_STATUS_CATEGORY(static_cast<int>(status))) {
    case 0: return "SUCCESS";
    case 1000: return "UNCATEGORIZED";
    case 2000: return "BAD_PARAM";
    case 3000: return "NOT_SUPPORTED";
    case 4000: return "INTERNAL_ERROR";
    case 5000: return "EXECUTION_FAILED";
    default: return "UNKNOWN_CATEGORY";
  }
}

std::string cudnn_last_error() {
  char buf[2048] = {0};
  cudnnGetLastErrorString(buf, sizeof(buf));
  return std::string(buf);
}

void fail_cuda(cudaError_t status, const char* call, const char* file, int line, std::string_view context) {
  throw InternalError(cat_str(where(call, file, line, context), ": CUDA error ", static_cast<int>(status), " ",
                              cudaGetErrorName(status), ": ", cudaGetErrorString(status)));
}

void fail_cudnn(cudnnStatus_t status, const char* call, const char* file, int line, std::string_view context) {
  std::string msg = cat_str(where(call, file, line, context), ": cuDNN status ", static_cast<int>(status), " ",
                            cudnnGetErrorString(status), " (category ", cudnn_status_category(status), ")");
  const std::string last = cudnn_last_error();
  if (!last.empty()) msg += cat_str("; cuDNN says: ", last);
  throw InternalError(msg);
}

void fail_cublas(cublasStatus_t status, const char* call, const char* file, int line, std::string_view context) {
  throw InternalError(cat_str(where(call, file, line, context), ": cuBLAS status ", static_cast<int>(status), " ",
                              cublasGetStatusName(status), ": ", cublasGetStatusString(status)));
}

void log_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  std::fprintf(stderr, "thaw: %s:%d: %s failed: %s\n", file, line, call, cudaGetErrorString(status));
}

void log_cudnn(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  std::fprintf(stderr, "thaw: %s:%d: %s failed: %s\n", file, line, call, cudnnGetErrorString(status));
}

void log_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "thaw: %s:%d: %s failed: %s\n", file, line, call, cublasGetStatusString(status));
}

}  // namespace thaw::cuda
