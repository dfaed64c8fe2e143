// SGD on the device (kernels/cuda/sgd.h through engine/gpu/cuda_optimizer.h) against Optimizer<float> on
// the host: from the same gradients, the same bits, on the first step (buffer set) and after it
// (buffer read), with and without Nesterov, with weight decay on weights only. Frozen tensors and
// running statistics are not touched by the update.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/optim/optimizer.h"
#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using SgdTest = CudaTest;

void check_sgd(SgdTest& t, bool nesterov) {
  // The smallest input and a frozen front keep this quick; the tensors still span every role.
  const Graph g = build_inception_v4(75, 5);
  const Plan plan = make_plan(g, g.find_block("mixed_6a"), BnPolicy::Train);
  ModelState<float> host = ModelState<float>::random(g, 11);
  CudaExecutor exec(t.ctx(), g, plan, host);
  OptimizerConfig oc;
  oc.momentum = 0.9;
  oc.weight_decay = 1e-3;
  oc.nesterov = nesterov;
  CudaOptimizer gpu_opt(exec, oc);
  // The host optimizer updates `host` from gradients downloaded from the device each step.
  std::vector<Tensor<float>> grads(g.tensors.size());
  std::vector<ParamRef<float>> refs;
  for (int tn : plan.trainable_tensors) {
    grads[tn] = Tensor<float>(g.tensors[tn].shape);
    refs.push_back({g.tensors[tn].name, host.values[tn].data(), grads[tn].data(), grads[tn].numel(),
                    g.tensors[tn].role == TensorRole::Weight});
  }
  Optimizer<float> cpu_opt(oc, refs);
  // The device optimizer's state comes back into this host copy (CudaOptimizer::to_host, what a
  // checkpoint of a GPU run saves); it never steps itself.
  ModelState<float> mirror_values = host;
  std::vector<ParamRef<float>> mirror_refs = refs;
  for (size_t k = 0; k < refs.size(); ++k) mirror_refs[k].value = mirror_values.values[plan.trainable_tensors[k]].data();
  Optimizer<float> mirror(oc, mirror_refs);
  Tensor<float> x;
  std::vector<int32_t> labels;
  for (int64_t s = 0; s < 3; ++s) {
    synthetic_batch(8, s, 2, 75, 5, x, labels);
    auto d_x = t.to_device(std::vector<float>(x.data(), x.data() + x.numel()));
    auto d_labels = t.to_device(labels);
    exec.forward(d_x.data(), 2, Phase::Train, {8, s, 0});
    exec.loss(d_labels.data());
    exec.backward();
    for (int tn : plan.trainable_tensors) {
      const std::vector<float> gr = exec.grad_to_host(tn);
      std::copy(gr.begin(), gr.end(), grads[tn].data());
    }
    // The forward moved the running statistics on the device: the host takes them over, so that
    // afterwards only the optimizer can make the two sides differ.
    ModelState<float> dev = ModelState<float>::zeros(g);
    exec.download(dev);
    for (size_t tn = 0; tn < g.tensors.size(); ++tn) {
      if (!g.tensors[tn].is_parameter()) host.values[tn] = dev.values[tn];
    }
    gpu_opt.step(0.05);
    cpu_opt.step(0.05);
    exec.download(dev);
    size_t differ = 0;
    for (size_t tn = 0; tn < g.tensors.size(); ++tn) {
      const Tensor<float>& a = dev.values[tn];
      const Tensor<float>& b = host.values[tn];
      if (a.numel() == 0) continue;
      const bool same = a.shape() == b.shape() &&
                        std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
      if (!same) {
        ++differ;
        ADD_FAILURE() << "step " << s << (nesterov ? " (nesterov)" : "") << ": " << g.tensors[tn].name
                      << " differs between the device SGD and Optimizer<float>";
      }
    }
    const auto cpu_state = cpu_opt.state();
    gpu_opt.to_host(mirror);
    const auto dev_state = mirror.state();
    for (int tn : plan.trainable_tensors) {
      const auto& dev_buf = dev_state.at(g.tensors[tn].name + ".momentum_buffer");
      const auto& host_buf = cpu_state.at(g.tensors[tn].name + ".momentum_buffer");
      const bool same = dev_buf.size() == host_buf.size() &&
                        std::memcmp(dev_buf.data(), host_buf.data(), sizeof(float) * dev_buf.size()) == 0;
      if (!same) {
        ++differ;
        ADD_FAILURE() << "step " << s << ": the momentum buffer of " << g.tensors[tn].name << " differs";
      }
    }
    std::printf("[sgd] step %lld%s: %zu of %zu tensors or momentum buffers differ from Optimizer<float>\n",
                static_cast<long long>(s), nesterov ? " nesterov" : "", differ, g.tensors.size());
    t.ctx().synchronize("sgd test step");  // d_x and d_labels die with this iteration
  }
  EXPECT_EQ(gpu_opt.step_count(), 3);
}

TEST_F(SgdTest, DeviceStepMatchesTheHostOptimizerBitForBit) { check_sgd(*this, false); }

TEST_F(SgdTest, DeviceNesterovStepMatchesTheHostOptimizerBitForBit) { check_sgd(*this, true); }

}  // namespace
}  // namespace thaw::cuda_test
