#pragma once
// The GPU step's pixel buffers (engine/train/cuda_train_step.h), on two sides, each a pinned host
// buffer and a device buffer. The loop's next batch (StepRunner::stage) is copied into the pinned
// buffer of the side the running step does not read while the device works, and from there to the
// device on a stream of its own, so that the upload runs beside the step instead of before it. A
// batch that was not staged is copied at its own step, on the compute stream. Events order the
// rest: a side's device buffer is written only after the compute stream's last read of it
// (`read`), read only after its copy (`copied`), and its pinned buffer refilled only once the copy
// out of it is done. Shard j's rows sit at its StagingLayout offset either way, and the device
// holds the host batch's bytes however they came: staging never changes the bits.
//
// Only built with CUDA (THAW_HAVE_CUDA).
#if THAW_HAVE_CUDA

#include <cstdint>
#include <span>

#include "core/tensor.h"
#include "engine/gpu/staging_layout.h"
#include "engine/gpu/upload_sides.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/event.h"
#include "kernels/cuda/pinned_host.h"
#include "kernels/cuda/stream.h"

namespace thaw {

class BatchUploads {
 public:
  explicit BatchUploads(cuda::Context& ctx) : ctx_(ctx) {}
  ~BatchUploads();  // waits for both sides' copies and reads
  BatchUploads(const BatchUploads&) = delete;
  BatchUploads& operator=(const BatchUploads&) = delete;

  // x's rows (shard j's `shard_rows` rows from starts[j]) into the side the running step does not
  // read, and on to the device behind it. Returns once x may change.
  void stage(const Tensor<float>& x, std::span<const int64_t> starts, int64_t shard_rows);
  // This step's pixels on the device, shard j's from layout().offsets[j]: with `staged`, the batch
  // stage() was given (the same rows and shards, or an internal error); else x copied now on the
  // compute stream.
  const float* take(const Tensor<float>& x, std::span<const int64_t> starts, int64_t shard_rows, bool staged);
  // Every read of take()'s buffer is queued on the compute stream.
  void release();
  // A staged batch whose step will not read it (its samples come from the feature cache).
  void discard_staged() { sides_.discard(); }
  const StagingLayout& layout() const { return side_[sides_.current()].layout; }

 private:
  struct Side {
    cuda::PinnedArray<float> host;
    cuda::DeviceBuffer<float> device;
    cuda::Event copied{false}, read{false};
    StagingLayout layout;  // of the batch staged or taken there
  };
  // Buffers of at least `floats`, the pinned one too with `pinned`, once nothing uses the old.
  void fit(Side& side, int64_t floats, bool pinned);

  cuda::Context& ctx_;
  cuda::Stream copies_;
  Side side_[2];
  UploadSides sides_;
};

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
