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

}  // namespace thaw::cuda
