#include "engine/gpu/gpu_feature_cache.h"

#if THAW_HAVE_CUDA

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw {

GpuFeatureCache::GpuFeatureCache(int boundary, int64_t row_bytes, int64_t budget_bytes)
    : boundary_(boundary), row_bytes_(row_bytes), slots_(row_bytes > 0 ? budget_bytes / row_bytes : 0) {
  THAW_CHECK(boundary >= 0 && row_bytes > 0, "a GPU feature cache at node ", boundary, " of ", row_bytes,
             " bytes per sample");
}

void GpuFeatureCache::store(std::span<const int64_t> samples, const void* rows, cudaStream_t stream) {
  computed_ += static_cast<int64_t>(samples.size());
  if (slots_.capacity() == 0) return;
  if (store_.empty()) {
    store_ = cuda::DeviceBuffer<unsigned char>(static_cast<size_t>(slots_.capacity() * row_bytes_));
  }
  const auto* from = static_cast<const unsigned char*>(rows);
  for (size_t i = 0; i < samples.size(); ++i) {
    const bool fresh = slots_.slot(samples[i]) < 0;
    const int64_t row = slots_.admit(samples[i]);
    if (!fresh || row < 0) continue;
    THAW_CUDA_CHECK(cudaMemcpyAsync(store_.data() + row * row_bytes_, from + static_cast<int64_t>(i) * row_bytes_,
                                    static_cast<size_t>(row_bytes_), cudaMemcpyDeviceToDevice, stream));
  }
}

void GpuFeatureCache::gather(std::span<const int64_t> samples, void* rows, cudaStream_t stream) {
  auto* to = static_cast<unsigned char*>(rows);
  for (size_t i = 0; i < samples.size(); ++i) {
    const int64_t row = slots_.slot(samples[i]);
    THAW_CHECK(row >= 0, "sample ", samples[i], " is not in the GPU feature cache");
    THAW_CUDA_CHECK(cudaMemcpyAsync(to + static_cast<int64_t>(i) * row_bytes_, store_.data() + row * row_bytes_,
                                    static_cast<size_t>(row_bytes_), cudaMemcpyDeviceToDevice, stream));
  }
  reused_ += static_cast<int64_t>(samples.size());
}

std::string GpuFeatureCache::report() const {
  return cat_str(computed_, " samples computed, ", reused_, " reused; ", (slots_.used() * row_bytes_) >> 20,
                 " MiB in GPU memory");
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
