// CPU convolution throughput at real Inception v4 shapes (input 299, batch 8; and 75, batch 32), float. Reports
// GFLOP/s as 2 * MACs per second of wall time, with the OpenMP thread count alongside, and
// GFLOP per second of process CPU time (all threads): on a shared machine the wall rate falls
// with the load, the CPU rate tells how well the kernel uses the cycles it got. On a shared machine
// run with OMP_WAIT_POLICY=passive: spinning workers otherwise burn the slices their team needs
// (measured here: 3x slower 1x1 convolutions at 8x8 with the default policy and a loaded host).
#include <benchmark/benchmark.h>
#include <omp.h>
#include <time.h>

#include <Eigen/Core>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_values.h"
#include "kernels/cpu/conv2d.h"
#include "tests/support/inception_conv_shapes.h"

namespace thaw {
namespace {

using benchkit::uniform;

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

// Every Inception v4 convolution problem the tests check (tests/support/inception_conv_shapes.h), at
// batch 8, and the tiny maps of 75 px at batch 32, in each direction.
const int kRegistered = [] {
  std::vector<testkit::ConvCase> cases = testkit::inception_conv_cases(8);
  for (testkit::ConvCase& c : testkit::inception_conv_bench_extras(8)) cases.push_back(c);
  for (testkit::ConvCase& c : testkit::inception_conv_cases_75(32)) cases.push_back(c);
  for (const testkit::ConvCase& c : cases) {
    for (auto [pass, tag] : {std::pair{Pass::Forward, "fwd_"}, std::pair{Pass::BackwardData, "bwd_data_"},
                             std::pair{Pass::BackwardWeight, "bwd_weight_"}}) {
      benchmark::RegisterBenchmark((std::string("run_conv/") + tag + c.name).c_str(), run_conv, c.g, pass)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return 0;
}();

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
