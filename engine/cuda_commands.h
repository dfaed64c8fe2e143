#pragma once
// What `--device cuda` runs for the command line: the training-step benchmark and batched
// inference on the GPU. Declared in every build; without CUDA, or without a usable device, each
// throws a UserError naming --device cuda and the reason.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "engine/model_state.h"
#include "engine/plan.h"
#include "graph/graph.h"

namespace thaw {

// Throws UserError "--device cuda: no usable CUDA device (<reason>)" unless a device answers.
void require_cuda_device();

struct CudaBenchResult {
  std::string gpu;       // DeviceInfo::describe(): name, compute capability, SMs, memory
  std::string gpu_name;  // the bare device name
  std::string libraries;  // run-time library versions
  int64_t steps = 0, warmup = 0;
  double step_ms = 0;       // per timed step, CUDA events around all timed steps
  double wall_step_ms = 0;  // per timed step, host clock (includes the host's waits)
  double first_loss = 0, last_loss = 0;
  int64_t arena_bytes = 0;     // the step arena (activations, their gradients, argmax, statistics)
  int64_t state_bytes = 0;     // values, gradients, momentum, the logits' gradient
  int64_t allocated_bytes = 0;  // device memory taken between before the model and after the last step
  int64_t device_used_bytes = 0;  // the whole device's used memory after the last step
  std::vector<double> step_ms_each;  // every step, warm-up included, CUDA events
};

// Training steps (forward, softmax cross-entropy, backward, SGD momentum 0.9 at lr 1e-3) on one
// synthetic batch (seed 1, step 0) generated on the host and uploaded once before the first step;
// every step reads the same device batch. `warmup` untimed steps first (they build the cuDNN
// plans and grow the workspaces).
CudaBenchResult cuda_bench(const Graph& g, const Plan& plan, int64_t batch, int64_t steps, int64_t warmup,
                           bool tf32 = false);

// Logits [n, K] of n normalised images (host, [n, 3, size, size] flattened), in batches of at most
// `batch_size`, with every block frozen and running statistics (as the CPU predict does).
Tensor<float> cuda_predict_logits(const Graph& g, const ModelState<float>& state, const std::vector<float>& x,
                                  int64_t n, int64_t batch_size);

}  // namespace thaw
