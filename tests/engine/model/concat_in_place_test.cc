// A frozen batch norm and ReLU whose only reader is a concatenation write straight into its channel
// slice (engine/model/executor_fused.cc). Each slice of the concatenation must hold, bit for bit,
// what its branch computes on its own (a forward that stops at the branch's ReLU takes the usual
// path: the concatenation is past its end), for every Inception block kind, frozen in training and
// in evaluation.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/model/executor.h"
#include "graph/inception_v4.h"
#include "tests/kernels/kernel_test_util.h"

namespace thaw {
namespace {

TEST(ConcatInPlace, EverySliceHoldsItsBranchsBits) {
  const Graph g = build_inception_v4(75, 4);
  ModelState<float> state = ModelState<float>::random(g, 7);
  const Plan plan = make_plan(g, g.find_block("mixed_7c"), BnPolicy::Train);
  Tensor<float> x({2, 3, 75, 75});
  const auto values = testkit::random_values(x.numel(), 8);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(values[i]);
  int checked = 0;
  for (const char* block : {"mixed_5b", "mixed_6b", "mixed_7b"}) {
    const int cat = g.blocks[g.find_block(block)].last_node;
    ASSERT_EQ(g.nodes[cat].kind, OpKind::Concat) << block;
    for (Phase phase : {Phase::Train, Phase::Eval}) {
      Executor<float> whole(g, plan, state);
      const Tensor<float> joined = whole.forward_until(x, cat, phase);
      const int64_t hw = g.nodes[cat].out[1] * g.nodes[cat].out[2], per_sample = g.nodes[cat].out[0] * hw;
      int64_t channel = 0;
      for (int src : g.nodes[cat].inputs) {
        Executor<float> branch(g, plan, state);
        const Tensor<float>& alone = branch.forward_until(x, src, phase);
        const int64_t len = g.nodes[src].out[0] * hw;
        for (int64_t s = 0; s < 2; ++s) {
          ASSERT_EQ(std::memcmp(joined.data() + s * per_sample + channel * hw, alone.data() + s * len,
                                static_cast<size_t>(len) * sizeof(float)),
                    0)
              << block << " input " << g.nodes[src].name << " sample " << s;
        }
        channel += g.nodes[src].out[0];
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * (4 + 4 + 4));  // four inputs each (Inception-C's two inner concatenations among them)
}

}  // namespace
}  // namespace thaw
