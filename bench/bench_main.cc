// The one main of thaw_bench_ops; every bench/*.cc registers its benchmarks statically.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
