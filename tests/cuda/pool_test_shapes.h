#pragma once
#include "kernels/geometry.h"

namespace thaw::cuda_test {

inline PoolGeom pool_geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p,
                          bool count_pad = false) {
  PoolGeom g;
  g.n = n, g.c = c, g.h_in = h, g.w_in = w, g.k = k, g.stride = s, g.pad = p, g.count_pad = count_pad;
  return g;
}

}  // namespace thaw::cuda_test
