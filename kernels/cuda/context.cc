#include "kernels/cuda/context.h"

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw::cuda {

std::string DeviceInfo::describe() const {
  return cat_str(name, " (sm_", cc_major, cc_minor, ", ", sm_count, " SMs, ",
                 static_cast<double>(total_memory) / static_cast<double>(size_t{1} << 30), " GiB)");
}

Context::Context(int device, size_t workspace_limit) : device_(device), workspace_limit_(workspace_limit) {
  int count = 0;
  THAW_CUDA_CHECK(cudaGetDeviceCount(&count));
  THAW_CHECK(device >= 0 && device < count, "CUDA device ", device, " requested, ", count, " present");
  THAW_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  THAW_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info_.ordinal = device;
  info_.name = prop.name;
  info_.cc_major = prop.major;
  info_.cc_minor = prop.minor;
  info_.sm_count = prop.multiProcessorCount;
  info_.total_memory = prop.totalGlobalMem;
  try {
    // A blocking stream: work put on the legacy default stream by anyone still orders with ours.
    THAW_CUDA_CHECK(cudaStreamCreate(&stream_));
    THAW_CUDNN_CHECK(cudnnCreate(&cudnn_));
    THAW_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
    THAW_CUBLAS_CHECK(cublasLtCreate(&cublaslt_));
  } catch (...) {
    release();
    throw;
  }
}

Context::~Context() {
  if (stream_) THAW_CUDA_LOG(cudaStreamSynchronize(stream_));
  release();
}

void Context::release() {
  // Plans hold cuDNN descriptors built with the handle: they go first.
  plans_.clear();
  if (workspace_.ptr) THAW_CUDA_LOG(cudaFree(workspace_.ptr));
  if (scratch_.ptr) THAW_CUDA_LOG(cudaFree(scratch_.ptr));
  workspace_ = {};
  scratch_ = {};
  if (cublaslt_) THAW_CUBLAS_LOG(cublasLtDestroy(cublaslt_));
  if (cudnn_) THAW_CUDNN_LOG(cudnnDestroy(cudnn_));
  if (stream_) THAW_CUDA_LOG(cudaStreamDestroy(stream_));
  cublaslt_ = nullptr;
  cudnn_ = nullptr;
  stream_ = nullptr;
}

void* Context::grow(Area& area, size_t bytes, const char* name) {
  // Never hand out a null pointer, even for zero bytes: libraries treat null as "not given".
  const size_t want = bytes < 256 ? 256 : bytes;
  if (want <= area.bytes) return area.ptr;
  THAW_CUDA_CHECK_CTX(cudaStreamSynchronize(stream_), name);
  if (area.ptr) THAW_CUDA_CHECK_CTX(cudaFree(area.ptr), name);
  area = {};
  ++generation_;
  // Round up so that slowly growing requests do not reallocate every time.
  const size_t rounded = (want + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);
  THAW_CUDA_CHECK_CTX(cudaMalloc(&area.ptr, rounded), cat_str(name, ": ", rounded, " bytes"));
  area.bytes = rounded;
  return area.ptr;
}

void* Context::workspace(size_t bytes) { return grow(workspace_, bytes, "Context workspace"); }

void* Context::scratch(size_t bytes) { return grow(scratch_, bytes, "Context scratch"); }

void Context::clear_plans() {
  synchronize("Context::clear_plans");
  plans_.clear();
  ++generation_;
}

void Context::synchronize(const char* what) {
  THAW_CUDA_CHECK_CTX(cudaStreamSynchronize(stream_), what);
  THAW_CUDA_CHECK_CTX(cudaGetLastError(), what);
}

}  // namespace thaw::cuda
