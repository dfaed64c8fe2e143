#pragma once
// A large host copy split over OpenMP threads in fixed chunks: the bytes std::memcpy would give,
// sooner on a many-core host. The GPU path copies every training batch twice on the host (the
// loader's slot into the loop's tensor, that into pinned memory, engine/gpu/batch_uploads.h), 137 MB
// each at batch 128 and 299 px; one thread took 22 to 40 ms per copy on this project's machine,
// inside the step's `meanwhile`, where it can leave the GPU waiting.
#include <cstddef>

namespace thaw {

void parallel_copy(void* dst, const void* src, size_t bytes);

}  // namespace thaw
