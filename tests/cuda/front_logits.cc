#include "tests/cuda/front_logits.h"

#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"

namespace thaw::cuda_test {

std::vector<float> mixed_6h_logits(CudaTest& t, bool bf16, const std::function<void(CudaExecutor&)>& configure,
                                   const std::function<void(const CudaExecutor&)>& after) {
  const Graph g = build_inception_v4(299, 10);
  const Plan plan = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  const ModelState<float> init = ModelState<float>::random(g, 7);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(7, 0, 2, 299, 10, x, labels);
  auto d_x = t.to_device(std::vector<float>(x.data(), x.data() + x.numel()));
  CudaExecutor exec(t.ctx(), g, plan, init, bf16);
  configure(exec);
  exec.forward(d_x.data(), 2, Phase::Train, {5, 0, 0});
  if (after) after(exec);
  return exec.logits_to_host();
}

}  // namespace thaw::cuda_test
