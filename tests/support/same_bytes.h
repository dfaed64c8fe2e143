#pragma once
// Byte equality for tests that compare buffers which may be empty: memcmp's pointers must be
// valid even for zero bytes, and an empty Tensor's data() is null (UBSan reports the call).
#include <cstddef>
#include <cstring>

namespace thaw::testkit {

inline bool same_bytes(const void* a, const void* b, size_t n) { return n == 0 || std::memcmp(a, b, n) == 0; }

}  // namespace thaw::testkit
