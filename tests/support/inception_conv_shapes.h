#pragma once
// The convolution problems of timm's inception_v4 at 299 that tests and benchmarks run: the CUDA
// parity, algorithm-policy and determinism tests (tests/cuda, batch 2) and the CPU convolution
// benchmark (bench/conv_bench.cc, batch 8) take them from here. The CPU kernel tests check the same
// kernel shapes (1x1, 3x3, 1x7, 7x1, 1x3, 3x1, stride 2) on tiny planes instead, where finite
// differences in double stay fast (tests/kernels/conv2d_test.cc).
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/geometry.h"

namespace thaw::testkit {

struct ConvCase {
  std::string name;
  ConvGeom g;
};

inline ConvGeom conv_geom(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh, int64_t kw,
                          int64_t s, int64_t ph, int64_t pw) {
  ConvGeom g;
  g.n = n, g.c_in = c_in, g.h_in = h, g.w_in = w, g.c_out = c_out, g.kh = kh, g.kw = kw;
  g.sh = s, g.sw = s, g.ph = ph, g.pw = pw;
  return g;
}

// One per kind of convolution Inception v4 has, at its real planes and channels.
inline std::vector<ConvCase> inception_conv_cases(int64_t batch = 2) {
  return {
      {"stem_3x3s2_3to32_299", conv_geom(batch, 3, 299, 299, 32, 3, 3, 2, 0, 0)},
      {"inception_a_3x3_64to96_35", conv_geom(batch, 64, 35, 35, 96, 3, 3, 1, 1, 1)},
      {"reduction_a_3x3s2_384to384_35", conv_geom(batch, 384, 35, 35, 384, 3, 3, 2, 0, 0)},
      {"inception_b_1x1_1024to192_17", conv_geom(batch, 1024, 17, 17, 192, 1, 1, 1, 0, 0)},
      {"inception_b_1x7_192to224_17", conv_geom(batch, 192, 17, 17, 224, 1, 7, 1, 0, 3)},
      {"inception_b_7x1_224to256_17", conv_geom(batch, 224, 17, 17, 256, 7, 1, 1, 3, 0)},
      {"inception_c_1x3_384to256_8", conv_geom(batch, 384, 8, 8, 256, 1, 3, 1, 0, 1)},
      {"inception_c_3x1_384to256_8", conv_geom(batch, 384, 8, 8, 256, 3, 1, 1, 1, 0)},
  };
}

// The benchmark's extra problems: the stem's largest 3x3 plane and Inception-C's widest 1x1.
inline std::vector<ConvCase> inception_conv_bench_extras(int64_t batch) {
  return {
      {"stem2_32to64_3x3p1_147", conv_geom(batch, 32, 147, 147, 64, 3, 3, 1, 1, 1)},
      {"inception_c_1x1_1536to256_8", conv_geom(batch, 1536, 8, 8, 256, 1, 1, 1, 0, 0)},
  };
}

// The tiny maps of Inception-B and -C at 75 px (3x3 and 1x1), whose gradients take the grouped
// path (kernels/cpu/conv2d_grouped.h); the benchmark runs them at batch 32, as the demo trains.
inline std::vector<ConvCase> inception_conv_cases_75(int64_t batch) {
  return {
      {"b75_inception_b_1x1_1024to192_3", conv_geom(batch, 1024, 3, 3, 192, 1, 1, 1, 0, 0)},
      {"b75_inception_b_1x7_192to224_3", conv_geom(batch, 192, 3, 3, 224, 1, 7, 1, 0, 3)},
      {"b75_inception_c_1x1_1536to256_1", conv_geom(batch, 1536, 1, 1, 256, 1, 1, 1, 0, 0)},
      {"b75_inception_c_1x3_384to256_1", conv_geom(batch, 384, 1, 1, 256, 1, 3, 1, 0, 1)},
  };
}

}  // namespace thaw::testkit
