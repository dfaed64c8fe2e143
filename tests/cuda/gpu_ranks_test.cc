// GPU ranks on one GPU (engine/parallel/comm_staged.h): two ranks on GPU 0, their gradients and
// shard records exchanged through host memory, against one rank at the same V. Everything of the
// GPU ranks but NCCL's transport runs: each rank's shards, the subtree sums, the reduction across
// ranks on the device in the fixed tree, the gathered records, the running statistics moved shard
// by shard, the update. The losses, every value of the state, the optimizer's state and
// num_batches_tracked must have the same bits on every rank as the one rank's. Also the running-
// statistics kernel against its CPU twin, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/synthetic.h"
#include "engine/gpu/cuda_leaf_stack.h"
#include "engine/parallel/gpu_comm.h"
#include "engine/parallel/rank_threads.h"
#include "engine/train/cuda_train_step.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/bn_running.h"
#include "kernels/cuda/bn_running.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

constexpr int64_t kSize = 139, kBatch = 8, kClasses = 5, kSteps = 3;

using GpuRanksTest = CudaTest;

struct Run {
  std::vector<double> losses;
  ModelState<float> state;
  std::map<std::string, std::vector<float>> optimizer;
};

TrainConfig config(int64_t shards) {
  TrainConfig c;
  c.batch_size = kBatch;
  c.shards = shards;
  c.seed = 3;
  c.optimizer.momentum = 0.9;
  c.optimizer.weight_decay = 1e-3;
  c.schedule.base_lr = 1e-3;
  return c;
}

// kSteps steps of one rank. own_rows: the rank gets only its shards' rows, as the trainer's loader
// gives them; otherwise the whole batch.
Run run_rank(const Graph& g, const Plan& plan, const ModelState<float>& init, TrainConfig cfg, bool own_rows) {
  Run r;
  r.state = init;
  CudaTrainStep step(g, plan, r.state, cfg);
  const ShardLayout& l = step.layout();
  Tensor<float> x, mine;
  std::vector<int32_t> labels;
  for (int64_t s = 0; s < kSteps; ++s) {
    synthetic_batch(9, s, kBatch, kSize, kClasses, x, labels);
    if (!own_rows) {
      r.losses.push_back(step.run({&x, labels, 0}, s, 1e-3));
      continue;
    }
    const int64_t first = l.first_sample(), rows = l.samples_per_rank(), per_row = x.numel() / kBatch;
    mine = Tensor<float>({rows, 3, kSize, kSize});
    std::memcpy(mine.data(), x.data() + first * per_row, static_cast<size_t>(rows * per_row) * sizeof(float));
    const std::span<const int32_t> own(labels.data() + first, static_cast<size_t>(rows));
    r.losses.push_back(step.run({&mine, own, first}, s, 1e-3));
  }
  step.sync_state();  // the host copies, as the loop asks
  for (const auto& [name, span] : step.optimizer().state()) r.optimizer[name] = {span.begin(), span.end()};
  return r;
}

void expect_same(const Graph& g, const Run& want, const Run& got, const std::string& tag) {
  for (size_t s = 0; s < want.losses.size(); ++s) {
    EXPECT_EQ(std::memcmp(&want.losses[s], &got.losses[s], sizeof(double)), 0)
        << tag << " loss of step " << s << ": " << want.losses[s] << " vs " << got.losses[s];
  }
  size_t differ = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const Tensor<float>& a = want.state.values[t];
    const Tensor<float>& b = got.state.values[t];
    if (std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) != 0) {
      ++differ;
      ADD_FAILURE() << tag << ": " << g.tensors[t].name << " differs";
    }
  }
  for (const auto& [name, v] : want.optimizer) {
    ASSERT_TRUE(got.optimizer.count(name)) << tag << " " << name;
    EXPECT_TRUE(same_bits(tag + " " + name, v, got.optimizer.at(name)));
  }
  EXPECT_EQ(want.state.batches_tracked, got.state.batches_tracked) << tag;
  std::printf("[gpu-ranks] %s: %zu tensors differ; losses %.9g %.9g %.9g\n", tag.c_str(), differ, got.losses[0],
              got.losses[1], got.losses[2]);
}

void check_two_ranks_on_one_gpu(int64_t shards, bool own_rows, int64_t bucket_floats = 0) {
  const Graph g = build_inception_v4(kSize, kClasses, 0.2);
  const Plan plan = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Train);
  const ModelState<float> init = ModelState<float>::random(g, 7);
  const Run one = run_rank(g, plan, init, config(shards), false);
  std::vector<Run> two(2);
  run_thread_ranks(2, std::chrono::seconds(120), [&](Comm& threads) {
    const std::unique_ptr<Comm> gpu = make_gpu_comm(GpuTransport::Staged, threads, 0, std::chrono::seconds(120));
    TrainConfig cfg = config(shards);
    cfg.gradient_bucket_floats = bucket_floats;  // never changes the bits
    cfg.ranks = 2;
    cfg.comm = &threads;
    cfg.gpu_comm = gpu.get();
    two[static_cast<size_t>(threads.rank())] = run_rank(g, plan, init, cfg, own_rows);
  });
  const std::string tag = cat_str("V=", shards, " N=2", own_rows ? " (own rows" : " (whole batch",
                                  bucket_floats > 0 ? cat_str(", buckets of ", bucket_floats, " floats)") : ")");
  // Not vacuous: the weights moved.
  bool moved = false;
  for (int t : plan.trainable_tensors) {
    moved |= std::memcmp(one.state.values[t].data(), init.values[t].data(),
                         static_cast<size_t>(init.values[t].numel()) * sizeof(float)) != 0;
  }
  EXPECT_TRUE(moved) << tag;
  expect_same(g, one, two[0], tag + " rank 0");
  expect_same(g, one, two[1], tag + " rank 1");
}

TEST_F(GpuRanksTest, TwoRanksOnOneGpuGiveTheBitsOfOneRank) { check_two_ranks_on_one_gpu(2, false); }
TEST_F(GpuRanksTest, TwoRanksOnOwnRowsWithFourShardsGiveTheBitsOfOneRank) {
  // Small buckets: the reduction overlaps the last shard's backward in many pieces.
  check_two_ranks_on_one_gpu(4, true, 1 << 16);
}

// The last leaf folded in pieces (the overlapped reduction) gives push()'s bits, at one, two and
// four leaves.
TEST_F(GpuRanksTest, AFoldedLeafGivesThePushedLeafsBits) {
  const int64_t count = 10007;
  for (int leaves : {1, 2, 4}) {
    std::vector<cuda::DeviceBuffer<float>> dev;
    for (int k = 0; k < leaves; ++k) dev.push_back(to_device(random_floats(count, 20 + k, -100, 100)));
    CudaLeafStack pushed(ctx(), count), folded(ctx(), count);
    for (int k = 0; k < leaves; ++k) pushed.push(dev[k].data());
    for (int k = 0; k + 1 < leaves; ++k) folded.push(dev[k].data());
    const float* last = dev.back().data();
    float* a = nullptr;
    for (int64_t lo = count; lo > 0; lo -= 3001) a = folded.fold(last, std::max<int64_t>(0, lo - 3001), lo);
    folded.end_folded_leaf();
    float* want = pushed.result();
    float* got = folded.result();
    EXPECT_EQ(a, got) << leaves << " leaves: fold returned another buffer than the result";
    std::vector<float> w(count), g(count);
    ctx().synchronize("fold test");
    cudaMemcpy(w.data(), want, count * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(g.data(), got, count * sizeof(float), cudaMemcpyDeviceToHost);
    EXPECT_TRUE(same_bits(cat_str("folded leaf of ", leaves), g, w));
  }
}

TEST_F(GpuRanksTest, RunningStatisticsMoveWithTheCpuRoundings) {
  const int64_t c = 4099;
  for (double m : {0.1, 0.01, 0.3}) {
    const std::vector<float> mean = random_floats(c, 1, -3, 3), var = random_floats(c, 2, 0, 4);
    std::vector<float> rm = random_floats(c, 3, -1, 1), rv = random_floats(c, 4, 0.5f, 2);
    auto d_mean = to_device(mean), d_var = to_device(var), d_rm = to_device(rm), d_rv = to_device(rv);
    cuda::bn_running_update(ctx(), c, m, d_mean.data(), d_var.data(), d_rm.data(), d_rv.data());
    cpu::bn_running_update(c, m, mean.data(), var.data(), rm.data(), rv.data());
    EXPECT_TRUE(same_bits(cat_str("running mean, momentum ", m), to_host(d_rm), rm));
    EXPECT_TRUE(same_bits(cat_str("running var, momentum ", m), to_host(d_rv), rv));
  }
}

}  // namespace
}  // namespace thaw::cuda_test
