#include "engine/parallel/device_space.h"

#if THAW_HAVE_CUDA

#include <string>

#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/check.h"

namespace thaw {

namespace {

// The comm may be used from the bucket thread (engine/parallel/grad_buckets.h): the context's GPU
// must be this thread's current device before any call on its stream.
void make_current(const cuda::Context& ctx) { THAW_CUDA_CHECK(cudaSetDevice(ctx.info().ordinal)); }

}  // namespace

float* DeviceSpace::scratch(size_t count) {
  make_current(ctx_);
  return static_cast<float*>(ctx_.scratch(count * sizeof(float)));
}

void DeviceSpace::add(float* dst, const float* src, size_t count) {
  make_current(ctx_);
  cuda::accumulate(ctx_, static_cast<int64_t>(count), src, dst);
}

void DeviceSpace::copy(void* dst, const void* src, size_t bytes) {
  if (bytes == 0 || dst == src) return;
  make_current(ctx_);
  THAW_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream()));
}

CudaStaging::~CudaStaging() {
  if (pinned_) cudaFreeHost(pinned_);
}

void* CudaStaging::host(size_t bytes) {
  if (bytes <= bytes_) return pinned_;
  // No copy is queued on the old area (Staging::host's contract).
  if (pinned_) THAW_CUDA_CHECK(cudaFreeHost(pinned_));
  pinned_ = nullptr;
  bytes_ = 0;
  THAW_CUDA_CHECK(cudaMallocHost(&pinned_, bytes));
  bytes_ = bytes;
  return pinned_;
}

void CudaStaging::to_host(void* host, const void* device, size_t bytes) {
  if (bytes == 0) return;
  make_current(ctx_);
  THAW_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, ctx_.stream()));
}

void CudaStaging::to_device(void* device, const void* host, size_t bytes) {
  if (bytes == 0) return;
  make_current(ctx_);
  THAW_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, ctx_.stream()));
}

void CudaStaging::wait(std::string_view what) {
  make_current(ctx_);
  ctx_.synchronize(std::string(what).c_str());
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
