#pragma once
// The op geometry of a graph node for a batch, shared by the CPU and CUDA executors.
#include "graph/graph.h"
#include "kernels/geometry.h"

namespace thaw {

// A node's per-sample shape with the batch in front.
inline Shape batched(int64_t batch, const Shape& s) {
  Shape out{batch};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

inline ConvGeom conv_geom(const Node& n, const Shape& in, int64_t batch) {
  ConvGeom c;
  c.n = batch, c.c_in = in[0], c.h_in = in[1], c.w_in = in[2];
  c.c_out = n.out[0], c.kh = n.kh, c.kw = n.kw, c.sh = n.sh, c.sw = n.sw, c.ph = n.ph, c.pw = n.pw;
  return c;
}

inline PoolGeom pool_geom(const Node& n, const Shape& in, int64_t batch) {
  PoolGeom p;
  p.n = batch, p.c = in[0], p.h_in = in[1], p.w_in = in[2];
  p.k = n.kh, p.stride = n.sh, p.pad = n.ph, p.count_pad = n.pool_count_pad;
  return p;
}

inline BnGeom bn_geom(const Node& n, int64_t batch) {
  BnGeom b;
  b.n = batch, b.c = n.out[0], b.hw = shape_numel(n.out) / n.out[0], b.eps = n.eps;
  return b;
}

}  // namespace thaw
