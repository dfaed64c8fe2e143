// CPU convolution throughput at real Inception v4 shapes (input 299, batch 8), float. Reports
// GFLOP/s as 2 * MACs per second of wall time, with the OpenMP thread count alongside, and
// GFLOP per second of process CPU time (all threads): on a shared machine the wall rate falls
// with the load, the CPU rate tells how well the kernel uses the cycles it got. On a shared machine
// run with OMP_WAIT_POLICY=passive: spinning workers otherwise burn the slices their team needs
// (measured here: 3x slower 1x1 convolutions at 8x8 with the default policy and a loaded host).
#include <benchmark/benchmark.h>
#include <omp.h>
#include <time.h>

#include <Eigen/Core>
#include <vector>

#include "core/philox.h"
#include "kernels/cpu/conv2d.h"

namespace thaw {
namespace {

ConvGeom inception_conv(int64_t ci, int64_t hw_in, int64_t co, int64_t kh, int64_t kw, int64_t s, int64_t ph,
                        int64_t pw) {
  ConvGeom g;
  g.n = 8, g.c_in = ci, g.h_in = hw_in, g.w_in = hw_in, g.c_out = co, g.kh = kh, g.kw = kw;
  g.sh = g.sw = s, g.ph = ph, g.pw = pw;
  return g;
}

std::vector<float> uniform(int64_t count, uint32_t stream) {
  const CounterRng rng(1, RngPurpose::Synthetic, stream, 0);
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = rng.uniform_float_at(static_cast<uint64_t>(i)) - 0.5f;
  return v;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void set_rates(benchmark::State& state, double flops_per_iter, double cpu_seconds) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/cpu-s"] = flops_per_iter * 1e-9 * static_cast<double>(state.iterations()) / cpu_seconds;
  state.counters["threads"] = omp_get_max_threads();
}

enum class Pass { Forward, BackwardData, BackwardWeight };

void run_conv(benchmark::State& state, ConvGeom g, Pass pass) {
  const auto x = uniform(g.x_size(), 1), w = uniform(g.w_size(), 2), dy = uniform(g.y_size(), 3);
  std::vector<float> y(g.y_size()), dx(g.x_size(), 0.f), dw(g.w_size(), 0.f);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    switch (pass) {
      case Pass::Forward: cpu::conv2d_forward(g, x.data(), w.data(), y.data()); break;
      case Pass::BackwardData: cpu::conv2d_backward_data(g, dy.data(), w.data(), dx.data()); break;
      case Pass::BackwardWeight: cpu::conv2d_backward_weight(g, x.data(), dy.data(), dw.data()); break;
    }
    benchmark::ClobberMemory();
  }
  set_rates(state, 2.0 * static_cast<double>(g.macs()), process_cpu_seconds() - cpu0);
}

// features.2: the stem's third conv, the largest plane that runs a 3x3 kernel.
const ConvGeom kStem3x3 = inception_conv(32, 147, 64, 3, 3, 1, 1, 1);
// features.0: 3 input channels, so K = 27 and the GEMM is thin.
const ConvGeom kStemFirst = inception_conv(3, 299, 32, 3, 3, 2, 0, 0);
// Reduction-A's stride-2 3x3, 384 -> 384 at 35x35.
const ConvGeom kReduceA = inception_conv(384, 35, 384, 3, 3, 2, 0, 0);
// Inception-B's last 1x7 of the double 7x7 branch, 224 -> 256 at 17x17.
const ConvGeom kIncB1x7 = inception_conv(224, 17, 256, 1, 7, 1, 0, 3);
// Inception-C's 1x1 reduction, 1536 -> 256 at 8x8 (direct path: no im2col).
const ConvGeom kIncC1x1 = inception_conv(1536, 8, 256, 1, 1, 1, 0, 0);

#define THAW_CONV_BENCH(tag, geom)                                                                      \
  BENCHMARK_CAPTURE(run_conv, fwd_##tag, geom, Pass::Forward)->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(run_conv, bwd_data_##tag, geom, Pass::BackwardData)                                 \
      ->Unit(benchmark::kMillisecond)                                                                   \
      ->UseRealTime();                                                                                  \
  BENCHMARK_CAPTURE(run_conv, bwd_weight_##tag, geom, Pass::BackwardWeight)                             \
      ->Unit(benchmark::kMillisecond)                                                                   \
      ->UseRealTime();

THAW_CONV_BENCH(stem0_3to32_3x3s2_299, kStemFirst)
THAW_CONV_BENCH(stem2_32to64_3x3p1_147, kStem3x3)
THAW_CONV_BENCH(redA_384to384_3x3s2_35, kReduceA)
THAW_CONV_BENCH(incB_224to256_1x7_17, kIncB1x7)
THAW_CONV_BENCH(incC_1536to256_1x1_8, kIncC1x1)

// The ceiling the convolutions are measured against: one square single-threaded Eigen GEMM per
// thread (the same kernel the convolutions call), threads working on independent products.
void gemm_ceiling(benchmark::State& state) {
  const int64_t m = 512;
  const auto a = uniform(m * m, 4), b = uniform(m * m, 5);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<float>> c(threads, std::vector<float>(m * m));
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
#pragma omp parallel for schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      Eigen::Map<Mat>(c[t].data(), m, m).noalias() =
          Eigen::Map<const Mat>(a.data(), m, m) * Eigen::Map<const Mat>(b.data(), m, m);
    }
    benchmark::ClobberMemory();
  }
  set_rates(state, 2.0 * m * m * m * threads, process_cpu_seconds() - cpu0);
}
BENCHMARK(gemm_ceiling)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace thaw
