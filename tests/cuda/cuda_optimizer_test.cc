// The device optimizer (engine/gpu/cuda_optimizer.h: SGD and AdamW, kernels/cuda/adamw.h) against
// Optimizer<float> on the host, and the device leaf stack (engine/gpu/cuda_leaf_stack.h) against
// LeafStack (engine/parallel/tree_reduce.h). Both sides compute the same float operations in the same
// order, so everything is compared bit for bit (tolerance.h: exact()).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_leaf_stack.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/optim/optimizer.h"
#include "engine/parallel/tree_reduce.h"
#include "graph/inception_v4.h"
#include "kernels/cuda/check.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using CudaOptimizerTest = CudaTest;

// A small plan whose trainable tensors span every role (conv and linear weights decay, batch-norm
// parameters and biases do not).
struct SmallModel {
  Graph g = build_inception_v4(75, 5);
  Plan plan = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Train);
  ModelState<float> host = ModelState<float>::random(g, 11);
};

// Random gradients for step `s` of every trainable tensor, written into the executor's gradient
// span on the device and into `grads` on the host.
void set_gradients(CudaTest& t, CudaExecutor& exec, const SmallModel& m, int64_t s,
                   std::vector<Tensor<float>>& grads) {
  std::vector<float> span(static_cast<size_t>(exec.trainable_span()), 0.0f);
  for (int tn : m.plan.trainable_tensors) {
    const std::vector<float> r =
        random_floats(grads[tn].numel(), static_cast<uint32_t>(1000 * s + tn), -0.5f, 0.5f);
    std::copy(r.begin(), r.end(), grads[tn].data());
    std::copy(r.begin(), r.end(), span.begin() + exec.trainable_offset(tn));
  }
  THAW_CUDA_CHECK(cudaMemcpyAsync(exec.trainable_grads(), span.data(), span.size() * sizeof(float),
                                  cudaMemcpyHostToDevice, t.stream()));
  t.ctx().synchronize("gradient upload");
}

std::vector<ParamRef<float>> refs_of(const SmallModel& m, ModelState<float>& state, std::vector<Tensor<float>>& grads) {
  std::vector<ParamRef<float>> refs;
  for (int tn : m.plan.trainable_tensors) {
    refs.push_back({m.g.tensors[tn].name, state.values[tn].data(), grads[tn].data(), grads[tn].numel(),
                    m.g.tensors[tn].role == TensorRole::Weight});
  }
  return refs;
}

std::vector<float> as_vector(std::span<const float> s) { return {s.begin(), s.end()}; }

// Three steps on both sides from the same gradients; then the device state goes to a host
// optimizer (to_host), into a fresh device optimizer (from_host), and one more step on each side.
void check_optimizer(CudaOptimizerTest& t, const OptimizerConfig& oc, const std::string& tag) {
  SmallModel m;
  ModelState<float> cpu_state = m.host;
  CudaExecutor exec(t.ctx(), m.g, m.plan, m.host);
  std::vector<Tensor<float>> grads(m.g.tensors.size());
  for (int tn : m.plan.trainable_tensors) grads[tn] = Tensor<float>(m.g.tensors[tn].shape);
  Optimizer<float> cpu(oc, refs_of(m, cpu_state, grads));
  auto gpu = std::make_unique<CudaOptimizer>(exec, oc);
  const double lrs[] = {0.1, 0.05, 0.02, 0.01};
  for (int64_t s = 0; s < 4; ++s) {
    if (s == 3) {
      // The checkpoint path: device state through a host optimizer into a new device optimizer.
      ModelState<float> scratch = m.host;
      std::vector<Tensor<float>> scratch_grads = grads;
      Optimizer<float> copy(oc, refs_of(m, scratch, scratch_grads));
      gpu->to_host(copy);
      EXPECT_EQ(copy.step_count(), 3);
      const auto want = cpu.state();
      const auto got = copy.state();
      ASSERT_EQ(got.size(), want.size());
      for (const auto& [name, span] : want) {
        EXPECT_TRUE(same_bits(tag + " to_host " + name, as_vector(got.at(name)), as_vector(span)));
      }
      gpu = std::make_unique<CudaOptimizer>(exec, oc);
      gpu->from_host(copy);
      EXPECT_EQ(gpu->step_count(), 3);
    }
    set_gradients(t, exec, m, s, grads);
    cpu.step(lrs[s]);
    gpu->step(lrs[s]);
  }
  ModelState<float> dev = ModelState<float>::zeros(m.g);
  exec.download(dev);
  size_t moved = 0;
  for (int tn : m.plan.trainable_tensors) {
    const Tensor<float>& a = dev.values[tn];
    const Tensor<float>& b = cpu_state.values[tn];
    EXPECT_TRUE(same_bits(tag + " " + m.g.tensors[tn].name, std::vector<float>(a.data(), a.data() + a.numel()),
                          std::vector<float>(b.data(), b.data() + b.numel())));
    moved += std::memcmp(b.data(), m.host.values[tn].data(), sizeof(float) * static_cast<size_t>(b.numel())) != 0;
  }
  // Not vacuous: every trainable tensor moved, and the frozen ones did not.
  EXPECT_EQ(moved, m.plan.trainable_tensors.size()) << tag;
  for (size_t tn = 0; tn < m.g.tensors.size(); ++tn) {
    if (exec.trainable_offset(static_cast<int>(tn)) >= 0 || m.g.tensors[tn].role == TensorRole::NumBatchesTracked) {
      continue;
    }
    const Tensor<float>& a = dev.values[tn];
    EXPECT_EQ(std::memcmp(a.data(), m.host.values[tn].data(), sizeof(float) * static_cast<size_t>(a.numel())), 0)
        << tag << ": frozen " << m.g.tensors[tn].name << " changed";
  }
  std::printf("[optimizer] %s: 4 steps on %zu tensors, device and host bit-identical\n", tag.c_str(), moved);
}

TEST_F(CudaOptimizerTest, AdamWMatchesTheHostBitForBit) {
  OptimizerConfig oc;
  oc.kind = OptimizerConfig::Kind::AdamW;
  oc.weight_decay = 0.05;
  check_optimizer(*this, oc, "adamw");
}

TEST_F(CudaOptimizerTest, AdamWWithoutDecayMatchesTheHostBitForBit) {
  OptimizerConfig oc;
  oc.kind = OptimizerConfig::Kind::AdamW;
  oc.beta1 = 0.8;
  oc.beta2 = 0.99;
  oc.eps = 1e-6;
  check_optimizer(*this, oc, "adamw-no-decay");
}

TEST_F(CudaOptimizerTest, SgdNesterovMatchesTheHostBitForBit) {
  OptimizerConfig oc;
  oc.momentum = 0.9;
  oc.nesterov = true;
  oc.weight_decay = 1e-3;
  check_optimizer(*this, oc, "sgd-nesterov");
}

TEST_F(CudaOptimizerTest, PlainSgdMatchesTheHostBitForBit) {
  OptimizerConfig oc;
  oc.momentum = 0;
  check_optimizer(*this, oc, "sgd-plain");
}

// V leaves through the device stack and through LeafStack: the same tree, the same bits. Leaves
// of mixed magnitudes make the order visible: a different pairing changes the rounding.
TEST_F(CudaOptimizerTest, LeafStackSumsInTheCpuTree) {
  constexpr int64_t kCount = 10007;
  CudaLeafStack dev(ctx(), kCount);
  for (int v : {2, 4, 8}) {
    LeafStack host(kCount);
    std::vector<std::vector<float>> leaves;
    for (int s = 0; s < v; ++s) {
      std::vector<float> leaf = random_floats(kCount, static_cast<uint32_t>(77 * v + s));
      const float mag = (s % 3 == 0) ? 1e4f : (s % 3 == 1 ? 1.0f : 1e-3f);
      for (float& x : leaf) x *= mag;
      leaves.push_back(leaf);
    }
    cuda::DeviceBuffer<float> d(static_cast<size_t>(kCount));
    for (int s = 0; s < v; ++s) {
      std::memcpy(host.begin_leaf(), leaves[s].data(), sizeof(float) * kCount);
      host.end_leaf();
      // The same device buffer for every leaf, as the executor's gradients are: push must have
      // taken the leaf before the next upload overwrites it (stream order).
      d.upload(leaves[s], stream());
      dev.push(d.data());
    }
    const float* want = host.result();
    cuda::DeviceBuffer<float> sum(static_cast<size_t>(kCount));
    THAW_CUDA_CHECK(cudaMemcpyAsync(sum.data(), dev.result(), sizeof(float) * kCount, cudaMemcpyDeviceToDevice,
                                    stream()));
    const std::vector<float> got = to_host(sum);
    EXPECT_TRUE(same_bits("leaf stack V=" + std::to_string(v), got, std::vector<float>(want, want + kCount)));
    // Not vacuous: a left-to-right sum differs from the tree somewhere.
    std::vector<float> seq(leaves[0]);
    for (int s = 1; s < v; ++s) {
      for (int64_t i = 0; i < kCount; ++i) seq[i] += leaves[s][i];
    }
    if (v >= 4) {
      EXPECT_NE(std::memcmp(seq.data(), want, sizeof(float) * kCount), 0) << "V=" << v;
    }
  }
}

}  // namespace
}  // namespace thaw::cuda_test
