#include "engine/parallel/comm.h"

#include <cstring>

namespace thaw {

float* HostSpace::scratch(size_t count) {
  if (scratch_.size() < count) scratch_.resize(count);
  return scratch_.data();
}

void HostSpace::add(float* dst, const float* src, size_t count) {
  for (size_t i = 0; i < count; ++i) dst[i] += src[i];
}

void HostSpace::copy(void* dst, const void* src, size_t bytes) {
  if (bytes > 0 && dst != src) std::memmove(dst, src, bytes);
}

void SelfComm::exchange(std::span<const Transfer> sends, std::span<const Transfer> recvs, std::string_view what) {
  THAW_CHECK(sends.empty() && recvs.empty(), "a single rank has no peer to exchange ", what, " with");
}

void all_gather(Comm& comm, const void* mine, void* all, size_t bytes, std::string_view what) {
  const int n = comm.size(), r = comm.rank();
  auto* out = static_cast<char*>(all);
  comm.space().copy(out + r * bytes, mine, bytes);
  if (n == 1) return;
  std::vector<Transfer> sends, recvs;
  for (int q = 0; q < n; ++q) {
    if (q == r) continue;
    sends.push_back({q, out + r * bytes, bytes});
    recvs.push_back({q, out + q * bytes, bytes});
  }
  comm.exchange(sends, recvs, what);
}

void broadcast(Comm& comm, void* data, size_t bytes, int root, std::string_view what) {
  const int n = comm.size();
  if (n == 1) return;
  std::vector<Transfer> sends, recvs;
  if (comm.rank() == root) {
    for (int q = 0; q < n; ++q) {
      if (q != root) sends.push_back({q, data, bytes});
    }
  } else {
    recvs.push_back({root, data, bytes});
  }
  comm.exchange(sends, recvs, what);
}

}  // namespace thaw
