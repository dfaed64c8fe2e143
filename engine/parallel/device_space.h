#pragma once
// Where a GPU rank's comm keeps and adds its data (each call makes the context's GPU current, so
// that the bucket thread may call them): the GPU's memory, the adds by a kernel on the
// comm's own stream (kernels/cuda/accumulate.h, one IEEE single addition per element, as
// HostSpace), and CudaStaging, the host side of a StagedComm (engine/parallel/comm_staged.h): pinned
// buffers, copies on the same stream.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstddef>
#include <string_view>

#include "engine/parallel/comm.h"
#include "engine/parallel/comm_staged.h"
#include "kernels/cuda/context.h"

namespace thaw {

class DeviceSpace final : public BufferSpace {
 public:
  explicit DeviceSpace(cuda::Context& ctx) : ctx_(ctx) {}
  float* scratch(size_t count) override;
  void add(float* dst, const float* src, size_t count) override;
  void copy(void* dst, const void* src, size_t bytes) override;

 private:
  cuda::Context& ctx_;
};

class CudaStaging final : public Staging {
 public:
  explicit CudaStaging(cuda::Context& ctx) : ctx_(ctx) {}
  ~CudaStaging() override;
  CudaStaging(const CudaStaging&) = delete;
  CudaStaging& operator=(const CudaStaging&) = delete;

  void* host(size_t bytes) override;
  void to_host(void* host, const void* device, size_t bytes) override;
  void to_device(void* device, const void* host, size_t bytes) override;
  void wait(std::string_view what) override;

 private:
  cuda::Context& ctx_;
  void* pinned_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
