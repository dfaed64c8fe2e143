#include "kernels/cuda/conv2d.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/cpu/conv2d.h"
#include "kernels/cuda/context.h"
#include "tests/support/inception_conv_shapes.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using testkit::ConvCase;
using testkit::conv_geom;
using testkit::inception_conv_cases;

class Conv2dTest : public CudaTest, public ::testing::WithParamInterface<ConvCase> {};

// Inputs, weights and output gradients are uniform in [-1, 1): every product term is at most 1.
// The reduction lengths: forward c_in*kh*kw, backward-data c_out*kh*kw (an upper bound on the
// terms per input element), backward-weight n*h_out*w_out.
TEST_P(Conv2dTest, MatchesCpuInEveryDirection) {
  const ConvGeom g = GetParam().g;
  const std::string name = GetParam().name;
  const auto x = random_floats(g.x_size(), 1), w = random_floats(g.w_size(), 2), dy = random_floats(g.y_size(), 3);
  const auto dx0 = random_floats(g.x_size(), 4), dw0 = random_floats(g.w_size(), 5);

  std::vector<float> want_y(g.y_size());
  cpu::conv2d_forward(g, x.data(), w.data(), want_y.data());
  auto want_dx_acc = dx0, want_dw_acc = dw0;
  std::vector<float> want_dx(g.x_size(), 0.0f), want_dw(g.w_size(), 0.0f);
  cpu::conv2d_backward_data(g, dy.data(), w.data(), want_dx_acc.data());
  cpu::conv2d_backward_data(g, dy.data(), w.data(), want_dx.data());
  cpu::conv2d_backward_weight(g, x.data(), dy.data(), want_dw_acc.data());
  cpu::conv2d_backward_weight(g, x.data(), dy.data(), want_dw.data());

  auto d_x = to_device(x), d_w = to_device(w), d_dy = to_device(dy);
  cuda::DeviceBuffer<float> d_y(g.y_size()), d_dx(g.x_size()), d_dw(g.w_size());
  auto d_dx_acc = to_device(dx0), d_dw_acc = to_device(dw0);
  // NaN everywhere an overwrite must write: proves beta 0 never reads the output.
  d_y.fill_bytes(0xFF, stream());
  d_dx.fill_bytes(0xFF, stream());
  d_dw.fill_bytes(0xFF, stream());
  cuda::conv2d_forward(ctx(), g, d_x.data(), d_w.data(), d_y.data());
  cuda::conv2d_backward_data(ctx(), g, d_dy.data(), d_w.data(), d_dx.data(), cuda::OutputMode::overwrite);
  cuda::conv2d_backward_data(ctx(), g, d_dy.data(), d_w.data(), d_dx_acc.data(), cuda::OutputMode::accumulate);
  cuda::conv2d_backward_weight(ctx(), g, d_x.data(), d_dy.data(), d_dw.data(), cuda::OutputMode::overwrite);
  cuda::conv2d_backward_weight(ctx(), g, d_x.data(), d_dy.data(), d_dw_acc.data(), cuda::OutputMode::accumulate);

  for (auto dir : {cuda::ConvDirection::forward, cuda::ConvDirection::backward_data,
                   cuda::ConvDirection::backward_weight}) {
    const std::string report = cuda::conv2d_plan_report(ctx(), dir, g);
    std::printf("[plan] %s\n", report.c_str());
    ::testing::Test::RecordProperty(std::string("engine_") + cuda::direction_name(dir), report);
  }

  const Tolerance fwd = float_dot(g.c_in * g.kh * g.kw, 1.0);
  const Tolerance dgrad = float_dot(g.c_out * g.kh * g.kw, 1.0);
  const Tolerance wgrad = float_dot(g.n * g.h_out() * g.w_out(), 1.0);
  EXPECT_TRUE(all_close(name + " fwd", to_host(d_y), want_y, fwd));
  EXPECT_TRUE(all_close(name + " dgrad overwrite", to_host(d_dx), want_dx, dgrad));
  EXPECT_TRUE(all_close(name + " dgrad accumulate", to_host(d_dx_acc), want_dx_acc, dgrad));
  EXPECT_TRUE(all_close(name + " wgrad overwrite", to_host(d_dw), want_dw, wgrad));
  EXPECT_TRUE(all_close(name + " wgrad accumulate", to_host(d_dw_acc), want_dw_acc, wgrad));
}

INSTANTIATE_TEST_SUITE_P(InceptionV4, Conv2dTest, ::testing::ValuesIn(inception_conv_cases()),
                         [](const ::testing::TestParamInfo<ConvCase>& info) { return info.param.name; });

using ConvPolicyTest = CudaTest;

// The chosen engine of every fp32 plan carries none of the excluded notes, and the plan cache
// serves the same plan on a second request. Also prints, per problem, every candidate cuDNN
// offered with its notes and verdict (fp32; and tf32 for a few, to record what TF32 engines carry).
TEST_F(ConvPolicyTest, ChosenEnginesAvoidExcludedNotes) {
  const std::vector<int> never = {CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC, CUDNN_NUMERICAL_NOTE_TENSOR_CORE,
                                  CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS, CUDNN_NUMERICAL_NOTE_FFT,
                                  CUDNN_NUMERICAL_NOTE_WINOGRAD, CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION};
  for (const ConvCase& c : inception_conv_cases()) {
    for (auto dir : {cuda::ConvDirection::forward, cuda::ConvDirection::backward_data,
                     cuda::ConvDirection::backward_weight}) {
      const cuda::ConvPlan* found = nullptr;
      try {
        found = &cuda::conv_plan(ctx(), dir, c.g);
      } catch (const InternalError& e) {
        // One problem without an engine must not hide the report of the others.
        ADD_FAILURE() << c.name << " " << cuda::direction_name(dir) << ": " << e.what();
        continue;
      }
      const cuda::ConvPlan& plan = *found;
      std::printf("[engines] %s %s fp32 candidates:\n%s", c.name.c_str(), cuda::direction_name(dir),
                  plan.candidates_report().c_str());
      for (int note : plan.chosen().numerical_notes) {
        EXPECT_EQ(std::count(never.begin(), never.end(), note), 0)
            << c.name << " " << cuda::direction_name(dir) << ": chosen engine has note "
            << cuda::numerical_note_name(note);
      }
      EXPECT_EQ(plan.chosen().verdict, "chosen");
      EXPECT_EQ(&cuda::conv_plan(ctx(), dir, c.g), &plan) << "plan cache missed on a repeated problem";
      // TF32 lists only for a few problems: their plans may compile at run time (slow).
      if (c.name.rfind("stem", 0) != 0 && c.name.find("1x7") == std::string::npos &&
          c.name.rfind("reduction_a", 0) != 0) {
        continue;
      }
      try {
        const cuda::ConvPlan& tf32 = cuda::conv_plan(ctx(), dir, c.g, cuda::ConvMath::tf32);
        std::printf("[engines] %s %s tf32 candidates:\n%s", c.name.c_str(), cuda::direction_name(dir),
                    tf32.candidates_report().c_str());
      } catch (const InternalError& e) {
        std::printf("[engines] %s %s tf32: %s\n", c.name.c_str(), cuda::direction_name(dir), e.what());
      }
    }
  }
  std::printf("[plans] %zu cached plans\n", ctx().plans().size());
  for (const std::string& line : ctx().plans().describe_all()) std::printf("[plans] %s\n", line.c_str());
}

TEST_F(ConvPolicyTest, MisalignedPointerIsRefused) {
  const ConvGeom g = conv_geom(1, 4, 8, 8, 4, 3, 3, 1, 1, 1);
  cuda::DeviceBuffer<float> x(g.x_size() + 1), w(g.w_size()), y(g.y_size());
  EXPECT_THROW(cuda::conv2d_forward(ctx(), g, x.data() + 1, w.data(), y.data()), InternalError);
}

}  // namespace
}  // namespace thaw::cuda_test
