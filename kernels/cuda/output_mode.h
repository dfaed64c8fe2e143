#pragma once

namespace thaw::cuda {

// Whether a gradient op replaces its output or adds to it. Our own kernels mirror the CPU ops and
// always add; the library-backed ops (conv, linear) take this explicitly, because writing with
// beta 0 into a fresh per-shard buffer is the common case there (DETERMINISM.md).
enum class OutputMode { overwrite, accumulate };

}  // namespace thaw::cuda
