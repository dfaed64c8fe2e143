// Replay's engine pins (kernels/cuda/context.h set_pins, kernels/cuda/conv_plan.h): a pinned
// problem takes the recorded engine; a pin the library does not offer is listed in pins_missed()
// and the usual choice is made.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/context.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using EnginePinTest = CudaTest;

TEST_F(EnginePinTest, APinIsTakenAndAMissingOneIsListed) {
  const ConvGeom g{2, 32, 17, 17, 48, 3, 3, 1, 1, 1, 1};
  const std::string key = cuda::conv_problem_key(cuda::ConvDirection::forward, g, cuda::ConvMath::fp32);
  const std::string chosen = cuda::conv_plan(ctx(), cuda::ConvDirection::forward, g).identity();
  std::printf("[plan] %s: %s\n", key.c_str(), chosen.c_str());
  // Every other eligible engine of the problem, pinned in a fresh context, is taken.
  const cuda::ConvPlan& first = cuda::conv_plan(ctx(), cuda::ConvDirection::forward, g);
  int tried = 0;
  for (const cuda::EngineCandidate& c : first.candidates()) {
    if (c.verdict.rfind("eligible", 0) != 0) continue;
    cuda::Context fresh(0);
    fresh.set_pins({{key, c.identity()}});
    const cuda::ConvPlan& p = cuda::conv_plan(fresh, cuda::ConvDirection::forward, g);
    if (fresh.pins_missed().empty()) {
      EXPECT_EQ(p.identity(), c.identity());
      ++tried;
    }
  }
  std::printf("[plan] %d other eligible engines pinned and taken\n", tried);
  cuda::Context missing(0);
  missing.set_pins({{key, "engine 99999 knobs{}"}});
  EXPECT_EQ(cuda::conv_plan(missing, cuda::ConvDirection::forward, g).identity(), chosen);
  ASSERT_EQ(missing.pins_missed().size(), 1u);
  EXPECT_EQ(missing.pins_missed()[0], key);
}

}  // namespace
}  // namespace thaw::cuda_test
