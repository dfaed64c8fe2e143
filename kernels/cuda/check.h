#pragma once
// One error-check family for the CUDA runtime, cuDNN and cuBLAS(Lt). A failing call throws
// thaw::InternalError naming the call as written, the file and line, the library's own words for
// the status, and the op and shapes when the caller gives them. Destructors never throw: they use
// the log_* forms.
//
// This header is included by .cu files, which nvcc compiles as C++17.
#include <cublasLt.h>
#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>
#include <string_view>

namespace thaw::cuda {

[[noreturn]] void fail_cuda(cudaError_t status, const char* call, const char* file, int line,
                            std::string_view context);
[[noreturn]] void fail_cudnn(cudnnStatus_t status, const char* call, const char* file, int line,
                             std::string_view context);
[[noreturn]] void fail_cublas(cublasStatus_t status, const char* call, const char* file, int line,
                              std::string_view context);

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line,
                       std::string_view context = {}) {
  if (status != cudaSuccess) fail_cuda(status, call, file, line, context);
}
inline void check_cudnn(cudnnStatus_t status, const char* call, const char* file, int line,
                        std::string_view context = {}) {
  if (status != CUDNN_STATUS_SUCCESS) fail_cudnn(status, call, file, line, context);
}
inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line,
                         std::string_view context = {}) {
  if (status != CUBLAS_STATUS_SUCCESS) fail_cublas(status, call, file, line, context);
}

// For destructors: reports a failure on stderr and carries on.
void log_cuda(cudaError_t status, const char* call, const char* file, int line);
void log_cudnn(cudnnStatus_t status, const char* call, const char* file, int line);
void log_cublas(cublasStatus_t status, const char* call, const char* file, int line);

// "NOT_SUPPORTED", "BAD_PARAM", ...: cuDNN 9 refines codes inside a category (status / 1000).
const char* cudnn_status_category(cudnnStatus_t status);
// The most recent error text cuDNN recorded on this thread ("" when none).
std::string cudnn_last_error();

}  // namespace thaw::cuda

#define THAW_CUDA_CHECK(call) ::thaw::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define THAW_CUDA_CHECK_CTX(call, context) \
  ::thaw::cuda::check_cuda((call), #call, __FILE__, __LINE__, (context))
#define THAW_CUDNN_CHECK(call) ::thaw::cuda::check_cudnn((call), #call, __FILE__, __LINE__)
#define THAW_CUDNN_CHECK_CTX(call, context) \
  ::thaw::cuda::check_cudnn((call), #call, __FILE__, __LINE__, (context))
#define THAW_CUBLAS_CHECK(call) ::thaw::cuda::check_cublas((call), #call, __FILE__, __LINE__)
#define THAW_CUBLAS_CHECK_CTX(call, context) \
  ::thaw::cuda::check_cublas((call), #call, __FILE__, __LINE__, (context))
// After a kernel launch: a bad launch configuration is reported here, at the launch site, rather
// than at some later call. `what` names the kernel or op.
#define THAW_CUDA_LAUNCH_CHECK(what) \
  ::thaw::cuda::check_cuda(cudaGetLastError(), "launch of " what, __FILE__, __LINE__)
#define THAW_CUDA_LOG(call) ::thaw::cuda::log_cuda((call), #call, __FILE__, __LINE__)
#define THAW_CUDNN_LOG(call) ::thaw::cuda::log_cudnn((call), #call, __FILE__, __LINE__)
#define THAW_CUBLAS_LOG(call) ::thaw::cuda::log_cublas((call), #call, __FILE__, __LINE__)
