#include "engine/data/parallel_copy.h"

#include <cstdint>
#include <cstring>

namespace thaw {

namespace {

// Below this, one thread: starting the others costs more than they save.
constexpr size_t kChunkBytes = size_t{4} << 20;

}  // namespace

void parallel_copy(void* dst, const void* src, size_t bytes) {
  if (bytes <= kChunkBytes) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return;
  }
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  const auto chunks = static_cast<int64_t>((bytes + kChunkBytes - 1) / kChunkBytes);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t at = static_cast<size_t>(c) * kChunkBytes;
    std::memcpy(d + at, s + at, at + kChunkBytes <= bytes ? kChunkBytes : bytes - at);
  }
}

}  // namespace thaw
