#include "kernels/cuda/device_query.h"

#include <cuda_runtime.h>

namespace thaw::cuda {

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device present";
  return n;
}

int compute_capability(int ordinal, std::string* name) {
  cudaDeviceProp p{};
  const cudaError_t err = cudaGetDeviceProperties(&p, ordinal);
  if (err != cudaSuccess) {
    if (name) *name = cudaGetErrorString(err);
    cudaGetLastError();
    return -1;
  }
  if (name) *name = p.name;
  return p.major * 10 + p.minor;
}

}  // namespace thaw::cuda
