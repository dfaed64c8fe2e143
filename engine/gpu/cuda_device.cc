#include "engine/gpu/cuda_device.h"

#include "core/error.h"

#if THAW_HAVE_CUDA

#include <string>
#include <string_view>

#include "kernels/cuda/device_query.h"

namespace thaw {

void require_cuda_device() {
  std::string why;
  if (cuda::device_count(&why) > 0) return;
  constexpr std::string_view prefix = "no usable CUDA device: ";
  if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
  fail_user("--device cuda: no usable CUDA device (", why.empty() ? "none found" : why, ")");
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

void require_cuda_device() { fail_user("--device cuda: this thaw was built without CUDA; use --device cpu"); }

}  // namespace thaw

#endif
