#pragma once
// A sum in double whose order is a function of the length alone: eight interleaved partial sums
// (independent chains, so the compiler can vectorise without reassociating), combined as a fixed
// tree, then the tail. Used for every per-channel reduction on the CPU.
#include <cstdint>

namespace thaw::cpu {

template <typename Term>
double fixed_sum(int64_t len, Term&& term) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += term(i + l);
  }
  double tail = 0;
  for (; i < len; ++i) tail += term(i);
  return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) + tail;
}

}  // namespace thaw::cpu
