// The host's share of a GPU training step (`thaw train --device cuda`, batch 128 at 299 px), which
// runs inside the step's device work and must stay under it: the record line's digest of the
// trainable span frozen through mixed_6h (16.4 M values) and with nothing frozen (41.2 M with a
// 5-class head), by record version 1's rule (step_digest with the serial sum, against
// param_checksum then grad_norm) and version 2's (the blocked sum: engine/model/digest_rule.h), and
// one 137 MB batch copy
// (parallel_copy, as the loader's slot goes into the loop's tensor and that into pinned memory,
// against one memcpy).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench/bench_values.h"
#include "engine/data/parallel_copy.h"
#include "engine/model/state_hash.h"

namespace thaw {
namespace {

using benchkit::uniform;

struct Span {
  std::vector<float> values, grads;
  std::vector<ParamRef<float>> refs;
  explicit Span(int64_t n) : values(uniform(n, 3)), grads(uniform(n, 4)) {
    refs.push_back({"span", values.data(), grads.data(), n, true});
  }
};

// `work` over the span of state.range(0) values, once per iteration, as millions of values per second.
template <typename F>
void over_span(benchmark::State& state, const F& work) {
  const Span s(state.range(0));
  for (auto _ : state) work(s.refs);
  state.counters["Mvalues/s"] = benchmark::Counter(static_cast<double>(state.range(0)) * 1e-6,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

using Refs = std::vector<ParamRef<float>>;

void digest_one_pass(benchmark::State& state) {
  over_span(state, [](const Refs& r) { benchmark::DoNotOptimize(step_digest(1, r, DigestRule::serial)); });
}

void digest_blocked(benchmark::State& state) {
  over_span(state, [](const Refs& r) { benchmark::DoNotOptimize(step_digest(1, r, DigestRule::blocked)); });
}

// Record version 1's checksum alone: one sequential hash, the floor of its digest.
void checksum_only(benchmark::State& state) {
  over_span(state, [](const Refs& r) { benchmark::DoNotOptimize(param_checksum(1, r, DigestRule::serial)); });
}

void digest_two_passes(benchmark::State& state) {
  over_span(state, [](const Refs& r) {
    benchmark::DoNotOptimize(param_checksum(1, r, DigestRule::serial));
    benchmark::DoNotOptimize(grad_norm(r, DigestRule::serial));
  });
}

constexpr int64_t kBatchFloats = int64_t{128} * 3 * 299 * 299;

void batch_copy(benchmark::State& state) {
  const std::vector<float> src = uniform(kBatchFloats, 5);
  std::vector<float> dst(src.size());
  const bool parallel = state.range(0) != 0;
  for (auto _ : state) {
    if (parallel) {
      parallel_copy(dst.data(), src.data(), src.size() * sizeof(float));
    } else {
      std::memcpy(dst.data(), src.data(), src.size() * sizeof(float));
    }
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(src.size() * sizeof(float)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(digest_one_pass)->Arg(16'410'000)->Arg(41'200'000)->Unit(benchmark::kMillisecond);
BENCHMARK(digest_blocked)->Arg(16'410'000)->Arg(41'200'000)->Unit(benchmark::kMillisecond);
BENCHMARK(checksum_only)->Arg(16'410'000)->Arg(41'200'000)->Unit(benchmark::kMillisecond);
BENCHMARK(digest_two_passes)->Arg(16'410'000)->Arg(41'200'000)->Unit(benchmark::kMillisecond);
BENCHMARK(batch_copy)->ArgName("parallel")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace thaw
