#pragma once
#include <string>

namespace thaw::cuda {

// Number of usable CUDA devices; 0 (never an exception) when there is no driver or no GPU, and
// `why` then says which, so GPU tests can skip with a clear reason.
int device_count(std::string* why = nullptr);
// Device `ordinal`'s name and compute capability (major * 10 + minor), or -1 when it cannot be
// queried (`name` then says why).
int compute_capability(int ordinal, std::string* name);

}  // namespace thaw::cuda
