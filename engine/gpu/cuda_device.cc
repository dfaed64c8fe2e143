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

void require_bf16_device() {
  require_cuda_device();
  std::string name;
  const int cc = cuda::compute_capability(0, &name);
  if (cc < 0) fail_user("--device cuda: GPU 0 cannot be queried (", name, ")");
  if (cc < 80) {
    fail_user("--precision bf16: GPU 0 (", name, ", sm_", cc, ") has no bf16 tensor cores (compute capability 8.0 "
              "or later needed); use --precision fp32");
  }
}

}  // namespace thaw

#else  // no CUDA in this build

namespace thaw {

void require_cuda_device() { fail_user("--device cuda: this thaw was built without CUDA; use --device cpu"); }
void require_bf16_device() { require_cuda_device(); }

}  // namespace thaw

#endif
