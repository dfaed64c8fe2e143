#pragma once
// `thaw bench --device cuda`: the GPU training step (engine/train/cuda_train_step.h) timed on GPU 0.
// Declared in every build; without CUDA, or without a usable device, it throws a UserError naming
// --device cuda and the reason.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/gpu/op_fusions.h"
#include "engine/model/mixed_precision.h"
#include "engine/model/plan.h"
#include "engine/model/step_profile.h"
#include "graph/graph.h"

namespace thaw {

struct CudaBenchResult {
  std::string gpu;       // DeviceInfo::describe(): name, compute capability, SMs, memory
  std::string gpu_name;  // the bare device name
  std::string libraries;  // run-time library versions
  int64_t steps = 0, warmup = 0;
  double step_ms = 0;       // per timed step, CUDA events around all timed steps
  double wall_step_ms = 0;  // per timed step, host clock (includes the host's waits)
  double first_loss = 0, last_loss = 0;
  int64_t arena_bytes = 0;     // the step arena (activations, their gradients, argmax, statistics)
  int64_t state_bytes = 0;     // values, gradients, optimizer state, the logits' gradient
  int64_t allocated_bytes = 0;  // device memory taken between before the model and after the last step
  int64_t device_used_bytes = 0;  // the whole device's used memory after the last step
  std::vector<double> step_ms_each;  // every step, warm-up included, CUDA events
  std::string layout = "nchw";       // "nchw", "nhwc front" or "nhwc" (every activation)
  std::string channels_last_end;     // the channels-last front's last node; empty: none
  int folded_groups = 0;             // frozen conv-bn-relu groups run as inference
  int fused_groups = 0;              // of those, run as one cuDNN graph (CudaBenchLayout::fused_epilogue)
  std::vector<std::string> unfused;  // the fused problems no engine took ("problem: no engine ...")
  int captured_graphs = 0;           // CudaBenchLayout::graph: the steps captured (one per upload side)
};

// How the step is run: the frozen part's storage and fusion (TrainConfig::gpu_channels_last,
// gpu_fused_epilogue) and the step as one CUDA graph (gpu_graph).
struct CudaBenchLayout {
  ChannelsLast channels_last = ChannelsLast::off;
  bool fused_epilogue = false;
  bool graph = false;
};

// Training steps of CudaTrainStep, as `thaw train --device cuda` runs them (one shard, SGD with
// momentum 0.9 at lr 1e-3, no weight decay: what the CPU bench runs), on one synthetic batch (seed
// 1, step 0) that every step uploads from the host, staged during the step before as the training
// loop stages its next batch (engine/gpu/batch_uploads.h), so that the upload overlaps the step's
// work as in training. Nothing is downloaded after
// a step (sync_params is the run record's need, not the step's). `warmup` untimed steps
// first (they build the cuDNN plans and grow the workspaces). `profile` non-null: `steps` more steps
// after the timed ones, each op timed by CUDA events into it (engine/model/step_profile.h).
CudaBenchResult cuda_bench(const Graph& g, const Plan& plan, int64_t batch, int64_t steps, int64_t warmup,
                           Numerics numerics = Numerics::Fp32, StepProfile* profile = nullptr,
                           CudaBenchLayout layout = {});

}  // namespace thaw
