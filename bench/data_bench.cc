// Data loading throughput on real image files: decode + training augmentation (and decode +
// evaluation preprocessing) through the BatchLoader with 1 or 2 workers, and what a pack saves:
// reading a sample's stored pixels against decoding the JPEG it came from. Images per second of
// wall time (items_per_second) and per second of the process's CPU time, all threads
// (img_per_cpu_s: images per core-second, which a loaded machine distorts far less). Inputs come
// from the environment (bench/data_bench.sh sets them):
//   THAW_BENCH_DATA  a CSV manifest (path,label) or a folder of class folders
//   THAW_BENCH_PACK  a pack made from it by `thaw pack` (pack benchmarks only)
//   THAW_BENCH_SIZE  the input size (default 299)
// Without THAW_BENCH_DATA every case here is skipped with a message.
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "engine/data/loader.h"
#include "io/augment.h"
#include "io/datasets.h"
#include "io/file_bytes.h"
#include "io/image_dataset.h"
#include "io/image_decode.h"
#include "io/pack_dataset.h"

namespace thaw {
namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

int64_t bench_size() {
  const char* s = std::getenv("THAW_BENCH_SIZE");
  return s ? std::atoll(s) : 299;
}

std::unique_ptr<Dataset> open_env(const char* var) {
  const char* spec = std::getenv(var);
  if (!spec || !*spec) return nullptr;
  return open_dataset(spec, DataSplit::Train, {});
}

// Every sample of `data` once, in batches of 32, through a loader with `workers` threads.
void run_loader(benchmark::State& state, const char* var, LoadMode mode) {
  const std::unique_ptr<Dataset> data = open_env(var);
  if (!data) {
    state.SkipWithError((std::string(var) + " is not set (see bench/data_bench.sh)").c_str());
    return;
  }
  std::vector<int64_t> order(static_cast<size_t>(data->size()));
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::vector<int64_t>> batches;
  for (size_t i = 0; i < order.size(); i += 32) {
    batches.emplace_back(order.begin() + static_cast<int64_t>(i),
                         order.begin() + static_cast<int64_t>(std::min(order.size(), i + 32)));
  }
  LoaderOptions opt;
  opt.workers = static_cast<int>(state.range(0));
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    BatchLoader loader(*data, batches, bench_size(), mode, opt);
    while (const LoadedBatch* b = loader.next()) benchmark::DoNotOptimize(b->x[0]);
  }
  const double cpu = process_cpu_seconds() - cpu0;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * data->size());
  state.counters["img_per_cpu_s"] = static_cast<double>(state.iterations() * data->size()) / cpu;
  state.counters["workers"] = static_cast<double>(opt.workers);
}

void BM_DataImagesTrain(benchmark::State& s) { run_loader(s, "THAW_BENCH_DATA", LoadMode::training(1)); }
void BM_DataImagesEval(benchmark::State& s) { run_loader(s, "THAW_BENCH_DATA", LoadMode::eval()); }
void BM_DataPackTrain(benchmark::State& s) { run_loader(s, "THAW_BENCH_PACK", LoadMode::training(1)); }
void BM_DataPackEval(benchmark::State& s) { run_loader(s, "THAW_BENCH_PACK", LoadMode::eval()); }

// The part of a load a pack replaces, on one thread: the source file read and decoded to the
// stored size (DCT-scaled as the packer does, not yet resized) against the stored pixels copied
// out of the mapped shard into an Image.
void BM_DataDecodeSources(benchmark::State& state) {
  const std::unique_ptr<Dataset> pack = open_env("THAW_BENCH_PACK");
  if (!pack) {
    state.SkipWithError("THAW_BENCH_PACK is not set (see bench/data_bench.sh)");
    return;
  }
  const auto& p = static_cast<const PackDataset&>(*pack);
  const int64_t side = eval_resize_short_side(bench_size());
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    for (int64_t i = 0; i < p.size(); ++i) {
      const Image img = decode_image(read_file_bytes(p.sample(i).path), p.sample(i).path, side);
      benchmark::DoNotOptimize(img.rgb.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * p.size());
  const double cpu = process_cpu_seconds() - cpu0;
  state.counters["img_per_cpu_s"] = static_cast<double>(state.iterations() * p.size()) / cpu;
}

void BM_DataReadPack(benchmark::State& state) {
  const char* dir = std::getenv("THAW_BENCH_PACK");
  if (!dir || !*dir) {
    state.SkipWithError("THAW_BENCH_PACK is not set (see bench/data_bench.sh)");
    return;
  }
  const std::shared_ptr<const PackData> data = PackData::open(dir);
  const int64_t n = static_cast<int64_t>(data->manifest.samples.size());
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    for (int64_t i = 0; i < n; ++i) {
      const PackSample& s = data->manifest.samples[static_cast<size_t>(i)];
      const std::string_view px = data->pixels(static_cast<size_t>(i));
      Image img;
      img.width = s.width;
      img.height = s.height;
      img.rgb.assign(px.begin(), px.end());
      benchmark::DoNotOptimize(img.rgb.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
  state.counters["img_per_cpu_s"] = static_cast<double>(state.iterations() * n) / (process_cpu_seconds() - cpu0);
}

BENCHMARK(BM_DataImagesTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DataImagesEval)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DataPackTrain)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DataPackEval)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DataDecodeSources)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_DataReadPack)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace
}  // namespace thaw
