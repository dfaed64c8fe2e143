#include "engine/cuda_decay_ranges.h"

#if THAW_HAVE_CUDA

namespace thaw {

std::vector<DecayRange> decay_ranges(const CudaExecutor& exec, bool any_decay) {
  const Graph& g = exec.graph();
  const int64_t span = exec.trainable_span();
  const std::vector<int>& ts = exec.plan().trainable_tensors;
  std::vector<DecayRange> ranges;
  for (size_t k = 0; k < ts.size(); ++k) {
    const int64_t begin = exec.trainable_offset(ts[k]);
    const int64_t end = k + 1 < ts.size() ? exec.trainable_offset(ts[k + 1]) : span;
    const bool decay = any_decay && g.tensors[ts[k]].role == TensorRole::Weight;
    if (!ranges.empty() && ranges.back().decay == decay && ranges.back().begin + ranges.back().count == begin) {
      ranges.back().count += end - begin;
    } else {
      ranges.push_back({begin, end - begin, decay});
    }
  }
  return ranges;
}

}  // namespace thaw

#endif  // THAW_HAVE_CUDA
