// thaw bench-reduce: the bandwidth of the gradient reduction (engine/parallel/tree_reduce.h) between ranks
// on this machine: thread ranks (--ranks N), or MPI processes under mpirun. The message sizes are
// those of a freeze point's trainable parameters (or --floats).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "cli/parallel_flags.h"
#include "core/error.h"
#include "engine/model/plan.h"
#include "engine/run/rank_context.h"
#include "engine/parallel/rank_threads.h"
#include "engine/parallel/tree_reduce.h"
#include "graph/inception_v4.h"

namespace thaw::cli {

namespace {

struct ReduceArgs {
  std::string freeze_through = "mixed_6h";
  int64_t floats = 0;  // > 0: this many instead of the freeze point's parameters
  int64_t bucket_floats = static_cast<int64_t>(kGradientBucketFloats);
  int reps = 5;
  int warmup = 1;
  bool json = false;
};

// Runs warmup + reps reductions of `count` floats on `comm`; rank 0's median time.
double time_reductions(Comm& comm, size_t count, size_t bucket, int warmup, int reps) {
  std::vector<float> data(count);
  for (size_t i = 0; i < count; ++i) data[i] = static_cast<float>((i * 7 + comm.rank()) % 13) * 0.25f;
  std::vector<double> times;
  for (int k = 0; k < warmup + reps; ++k) {
    char go = 1;
    std::vector<char> all(static_cast<size_t>(comm.size()));
    all_gather(comm, &go, all.data(), 1, "start signal");  // the ranks start together
    const auto t0 = std::chrono::steady_clock::now();
    tree_allreduce(comm, data.data(), count, bucket, "benchmark gradients");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (k >= warmup) times.push_back(s);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void run(const ReduceArgs& a, const ParallelFlags& p) {
  if (a.reps < 1) fail_user("--reps: expected at least 1, got ", a.reps);
  if (a.warmup < 0) fail_user("--warmup: expected 0 or more, got ", a.warmup);
  if (a.bucket_floats < 1) fail_user("--bucket-floats: expected at least 1, got ", a.bucket_floats);
  const auto bucket = static_cast<size_t>(a.bucket_floats);
  int64_t floats = a.floats;
  if (floats <= 0) {
    const Graph g = build_inception_v4(299, 1000, 0.0);
    floats = make_plan(g, g.find_block(a.freeze_through), BnPolicy::Train).trainable_parameter_count(g);
  }
  RankContext ranks(p.options());
  ranks.run([&] {
    const int n = ranks.total_ranks();
    double seconds = 0;
    std::string kind;
    if (Comm* mpi = ranks.process_comm()) {
      seconds = time_reductions(*mpi, static_cast<size_t>(floats), bucket, a.warmup, a.reps);
      kind = "mpi";
    } else if (n > 1) {
      run_thread_ranks(n, p.options().timeout, [&](Comm& comm) {
        const double s = time_reductions(comm, static_cast<size_t>(floats), bucket, a.warmup, a.reps);
        if (comm.rank() == 0) seconds = s;
      });
      kind = "threads";
    } else {
      SelfComm self;
      seconds = time_reductions(self, static_cast<size_t>(floats), bucket, a.warmup, a.reps);
      kind = "self";
    }
    if (!ranks.is_writer()) return;
    const double bytes = static_cast<double>(floats) * 4.0;
    // Each rank sends and receives 2 (N-1)/N of the data, as a ring all-reduce does ("bus" bandwidth).
    const double moved = n == 1 ? 0.0 : 2.0 * (n - 1) / n * bytes;
    const double bus = seconds > 0 ? moved / seconds / 1e9 : 0.0;
    if (a.json) {
      nlohmann::json j = {{"ranks", n},
                          {"kind", kind},
                          {"floats", floats},
                          {"bucket_floats", a.bucket_floats},
                          {"freeze_through", a.floats > 0 ? "" : a.freeze_through},
                          {"seconds", seconds},
                          {"bytes_per_rank", moved},
                          {"bus_gb_per_s", bus}};
      std::cout << j.dump() << "\n";
    } else {
      std::printf("%d %s rank(s), %lld floats (%.1f MB): %.3f ms per reduction, %.2f GB/s per rank in and out\n", n,
                  kind.c_str(), static_cast<long long>(floats), bytes / 1e6, seconds * 1e3, bus);
    }
  });
}

}  // namespace

void add_bench_reduce(CLI::App& app) {
  auto a = std::make_shared<ReduceArgs>();
  auto p = std::make_shared<ParallelFlags>();
  CLI::App* sub = app.add_subcommand(
      "bench-reduce", "Time the fixed-order gradient reduction between ranks (threads, or processes under mpirun)");
  sub->add_option("--freeze-through", a->freeze_through, "Reduce this freeze point's trainable parameters (299, 1000 classes)")
      ->capture_default_str();
  sub->add_option("--floats", a->floats, "Reduce this many floats instead")->check(in_range(whole(0, int64_t{1} << 30, "0: the freeze point's parameters")));
  sub->add_option("--bucket-floats", a->bucket_floats,
                  "Floats per bucket (thaw train reduces buckets of about 2^20 floats while backward runs)")
      ->capture_default_str()->check(in_range(whole(1, int64_t{1} << 30)));
  sub->add_option("--reps", a->reps, "Timed reductions (the median is reported)")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--warmup", a->warmup, "Untimed reductions first")->capture_default_str()->check(in_range(whole(0, 1000000)));
  sub->add_flag("--json", a->json, "Print one JSON line");
  add_parallel_flags(sub, *p);
  sub->callback([a, p] { run(*a, *p); });
}

}  // namespace thaw::cli
