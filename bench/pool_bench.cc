// CPU pooling at the Inception v4 pools' shapes, input 299, batch 8, float: the max pools of the
// stem and the reductions (3x3 stride 2, unpadded) and the average pools of the Inception blocks
// (3x3 stride 1, pad 1, padding not counted). Reports input elements per second: these passes are
// bound by memory, not arithmetic.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/bench_values.h"
#include "kernels/cpu/pool.h"

namespace thaw {
namespace {

using benchkit::uniform;

PoolGeom geom(int64_t c, int64_t hw, int64_t stride, int64_t pad) {
  PoolGeom g;
  g.n = 8, g.c = c, g.h_in = hw, g.w_in = hw, g.k = 3, g.stride = stride, g.pad = pad;
  return g;
}

enum class Op { MaxForward, AvgForward, AvgBackward };

void run_pool(benchmark::State& state, PoolGeom g, Op op) {
  const auto x = uniform(g.x_size(), 7), dy = uniform(g.y_size(), 8);
  std::vector<float> y(g.y_size()), dx(g.x_size(), 0.0f);
  std::vector<int32_t> argmax(g.y_size());
  for (auto _ : state) {
    switch (op) {
      case Op::MaxForward: cpu::maxpool_forward(g, x.data(), y.data(), argmax.data()); break;
      case Op::AvgForward: cpu::avgpool_forward(g, x.data(), y.data()); break;
      case Op::AvgBackward: cpu::avgpool_backward(g, dy.data(), dx.data()); break;
    }
    benchmark::ClobberMemory();
  }
  state.counters["Melem/s"] = benchmark::Counter(static_cast<double>(g.x_size()) * 1e-6,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

const int kRegistered = [] {
  const struct {
    const char* name;
    PoolGeom g;
    Op op;
  } cases[] = {
      {"max_fwd_mixed_3a_64x147", geom(64, 147, 2, 0), Op::MaxForward},
      {"max_fwd_mixed_5a_192x71", geom(192, 71, 2, 0), Op::MaxForward},
      {"max_fwd_mixed_6a_384x35", geom(384, 35, 2, 0), Op::MaxForward},
      {"avg_fwd_inception_a_384x35", geom(384, 35, 1, 1), Op::AvgForward},
      {"avg_fwd_inception_b_1024x17", geom(1024, 17, 1, 1), Op::AvgForward},
      {"avg_bwd_inception_a_384x35", geom(384, 35, 1, 1), Op::AvgBackward},
      {"avg_bwd_inception_b_1024x17", geom(1024, 17, 1, 1), Op::AvgBackward},
  };
  for (const auto& c : cases) {
    benchmark::RegisterBenchmark((std::string("pool/") + c.name).c_str(), run_pool, c.g, c.op)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  return 0;
}();

}  // namespace
}  // namespace thaw
