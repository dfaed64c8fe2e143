#pragma once
// Everything a CUDA op needs, owned in one place and passed down explicitly: the device, one
// stream, the cuDNN and cuBLASLt handles bound to it, a workspace for library calls, a scratch
// area for our own temporaries, and the plans built with those handles. One Context per device
// thread; it is not shared between threads.
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "kernels/cuda/plan_cache.h"

namespace thaw::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t total_memory = 0;
  std::string describe() const;  // "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)"
};

class Context {
 public:
  // The most workspace a library call may use (a plan that needs more is skipped).
  static constexpr size_t kDefaultWorkspaceLimit = size_t{256} << 20;

  explicit Context(int device = 0, size_t workspace_limit = kDefaultWorkspaceLimit);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasLtHandle_t cublaslt() const { return cublaslt_; }
  const DeviceInfo& info() const { return info_; }
  size_t workspace_limit() const { return workspace_limit_; }

  // Library workspace and op scratch: each grows on demand and stays valid until the next call
  // that makes it grow. Work already queued on the stream finishes before an old area is freed.
  void* workspace(size_t bytes);
  void* scratch(size_t bytes);

  // Waits for the stream; surfaces any asynchronous error with `what` in the message.
  void synchronize(const char* what = "Context::synchronize");

  // TF32 tensor cores for fp32 convolutions and matrix products (`--precision tf32`): inputs are
  // rounded to 10 mantissa bits inside the library call, sums stay fp32. Off by default: strict
  // fp32, the CPU's arithmetic up to summation order. Plans are keyed by it, so switching is safe.
  void set_tf32(bool on) { tf32_ = on; }
  bool tf32() const { return tf32_; }

  PlanCache& plans() { return plans_; }
  const PlanCache& plans() const { return plans_; }
  // Replay's pins (engine/run/replay.h): problem key -> the identity a recorded run chose. A plan
  // built for a pinned problem takes that choice when the library still offers it; otherwise it
  // chooses as usual and the problem is listed in pins_missed().
  void set_pins(std::map<std::string, std::string> pins) { pins_ = std::move(pins); }
  const std::string* pin(const std::string& problem) const {
    const auto it = pins_.find(problem);
    return it == pins_.end() ? nullptr : &it->second;
  }
  void pin_missed(const std::string& problem) { pins_missed_.push_back(problem); }
  const std::vector<std::string>& pins_missed() const { return pins_missed_; }
  // Drops every cached plan once the stream is idle (a plan may own code that queued work runs).
  void clear_plans();
  // Moves on whenever the workspace or scratch area is reallocated or the plans are dropped: work
  // captured into a CUDA graph (kernels/cuda/graph.h) under another generation points at memory or
  // code that is gone.
  int64_t generation() const { return generation_; }

 private:
  struct Area {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  void* grow(Area& area, size_t bytes, const char* name);
  void release();

  int device_ = 0;
  size_t workspace_limit_ = 0;
  bool tf32_ = false;
  DeviceInfo info_;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasLtHandle_t cublaslt_ = nullptr;
  Area workspace_, scratch_;
  int64_t generation_ = 0;
  PlanCache plans_;
  std::map<std::string, std::string> pins_;
  std::vector<std::string> pins_missed_;
};

}  // namespace thaw::cuda
