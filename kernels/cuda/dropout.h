#pragma once
// Inverted dropout with a given keep mask (one byte per element, from the engine's counter-based
// generator): the twin of kernels/cpu/dropout.h. Kept elements are scaled by float(1/(1-p));
// p = 1 gives zeros.
#include <cstdint>

#include "kernels/cuda/storage.h"

namespace thaw::cuda {

class Context;

// The keep mask of `batch` samples of `per` elements, made on the device: element e of sample s is
// kept when CounterRng(seed, Dropout, step, sample_offset + s).uniform_double_at(e) >= p, the CPU
// executor's mask bit for bit (core/philox_core.h is the one code of both).
void dropout_mask(Context& ctx, uint64_t seed, int64_t step, int64_t sample_offset, int64_t batch, int64_t per,
                  double p, uint8_t* keep);

// The same mask with the key read from device memory when the kernel runs, so that work captured
// into a CUDA graph (kernels/cuda/graph.h) takes each step's key from there.
struct DeviceStepKey {
  uint64_t seed = 0;
  int64_t step = 0;
  int64_t sample_offset = 0;
};
void dropout_mask_at(Context& ctx, const DeviceStepKey* key, int64_t batch, int64_t per, double p, uint8_t* keep);

// S: float or bf16 (kernels/cuda/storage.h).
template <typename S>
void dropout_forward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* x, S* y);
// Accumulates into dx.
template <typename S>
void dropout_backward(Context& ctx, int64_t count, double p, const uint8_t* keep, const S* dy, S* dx);

}  // namespace thaw::cuda
