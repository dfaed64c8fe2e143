#include "engine/gpu/batch_uploads.h"

#if THAW_HAVE_CUDA

#include <exception>

#include "core/error.h"
#include "engine/data/parallel_copy.h"
#include "kernels/cuda/check.h"

namespace thaw {

namespace {

int64_t floats_per_row(const Tensor<float>& x) {
  const int64_t rows = x.shape()[0];
  THAW_CHECK(rows > 0, "an empty batch to upload");
  return x.numel() / rows;
}

}  // namespace

BatchUploads::~BatchUploads() {
  for (Side& side : side_) {
    try {
      side.copied.wait();
      side.read.wait();
    } catch (const std::exception&) {  // a destructor must not throw; the error was raised before
    }
  }
}

void BatchUploads::fit(Side& side, int64_t floats, bool pinned) {
  const auto count = static_cast<size_t>(floats);
  if (side.device.size() < count) {
    side.read.wait();
    side.copied.wait();
    side.device = cuda::DeviceBuffer<float>(count);
  }
  if (pinned && side.host.size() < count) {
    side.copied.wait();
    side.host = cuda::PinnedArray<float>(count);
  }
}

void BatchUploads::stage(const Tensor<float>& x, std::span<const int64_t> starts, int64_t shard_rows) {
  Side& side = side_[sides_.stage()];
  const int64_t per_row = floats_per_row(x);
  side.layout = staging_layout(starts, shard_rows, per_row);
  fit(side, side.layout.floats, true);
  side.copied.wait();  // the copy out of the pinned buffer is done (it normally is, a step ago)
  const size_t shard_bytes = static_cast<size_t>(shard_rows * per_row) * sizeof(float);
  for (size_t j = 0; j < starts.size(); ++j) {
    parallel_copy(side.host.data() + side.layout.offsets[j], x.data() + starts[j] * per_row, shard_bytes);
  }
  // The step before the running one read this side's device buffer; its read is queued before.
  side.read.order_before(copies_.get());
  // One copy: the alignment gaps between shards go along and are never read.
  THAW_CUDA_CHECK(cudaMemcpyAsync(side.device.data(), side.host.data(),
                                  static_cast<size_t>(side.layout.floats) * sizeof(float), cudaMemcpyHostToDevice,
                                  copies_.get()));
  side.copied.record(copies_.get());
}

const float* BatchUploads::take(const Tensor<float>& x, std::span<const int64_t> starts, int64_t shard_rows,
                                bool staged) {
  const int64_t per_row = floats_per_row(x);
  const StagingLayout layout = staging_layout(starts, shard_rows, per_row);
  Side& side = side_[sides_.take(staged)];
  if (staged) {
    THAW_CHECK(side.layout.offsets == layout.offsets && side.layout.floats == layout.floats,
               "the staged batch's shards differ from its step's");
    side.copied.order_before(ctx_.stream());
    return side.device.data();
  }
  // Not the side a staged copy may still be writing (UploadSides::take).
  fit(side, layout.floats, false);
  side.layout = layout;
  side.copied.order_before(ctx_.stream());
  const size_t shard_bytes = static_cast<size_t>(shard_rows * per_row) * sizeof(float);
  for (size_t j = 0; j < starts.size(); ++j) {
    THAW_CUDA_CHECK(cudaMemcpyAsync(side.device.data() + layout.offsets[j], x.data() + starts[j] * per_row, shard_bytes,
                                    cudaMemcpyHostToDevice, ctx_.stream()));
  }
  return side.device.data();
}

void BatchUploads::release() { side_[sides_.current()].read.record(ctx_.stream()); }

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
