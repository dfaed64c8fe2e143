#include "kernels/cuda/versions.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "core/error.h"

namespace thaw::cuda {

namespace {

// CUDA encodes 1000*major + 10*minor.
std::string cuda_version_str(int v) {
  if (v == 0) return "none";
  return cat_str(v / 1000, ".", (v % 1000) / 10);
}

// cuDNN 9 encodes 10000*major + 100*minor + patch.
std::string cudnn_version_str(size_t v) { return cat_str(v / 10000, ".", (v % 10000) / 100, ".", v % 100); }

}  // namespace

std::string LibraryVersions::describe() const {
  return cat_str("cuda runtime ", cuda_version_str(cuda_runtime), ", driver ", cuda_version_str(cuda_driver),
                 ", cudnn ", cudnn_version_str(cudnn), " (built against ", cudnn_version_str(cudnn_compiled),
                 ", cudnn's cudart ", cudnn_cudart, "), cublasLt ", cublaslt);
}

LibraryVersions library_versions() {
  LibraryVersions v;
  // Failures leave zeros: this report must work on a machine without a driver.
  if (cudaRuntimeGetVersion(&v.cuda_runtime) != cudaSuccess) v.cuda_runtime = 0;
  if (cudaDriverGetVersion(&v.cuda_driver) != cudaSuccess) v.cuda_driver = 0;
  cudaGetLastError();
  v.cudnn = cudnnGetVersion();
  v.cudnn_compiled = CUDNN_VERSION;
  v.cudnn_cudart = cudnnGetCudartVersion();
  v.cublaslt = cublasLtGetVersion();
  return v;
}

}  // namespace thaw::cuda
