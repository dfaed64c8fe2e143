// A frozen layer's convolution, bias and ReLU as one cuDNN graph (kernels/cuda/conv_graph.h,
// conv2d_forward_bias_relu; CUDNN.md "Frozen layers"). Without a device: the graph's shape (three
// operations through virtual fp32 tensors, one without the epilogue), the problem keys that keep
// fused and plain plans apart, and the layouts only a forward takes. With one: where an engine takes
// the fused problem, it gives the separate ops' result within float rounding (cuDNN may pick another
// engine), the same bits twice, and leaves a concatenation's other channels alone; where none does,
// the refusal is cached as kNoEngine and nothing is queued. A network frozen through mixed_6h with
// its channels-last front fused gives the unfused front's logits (the same bits where no group ran
// fused), twice the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "engine/gpu/cuda_executor.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/conv_graph.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/conv_plan.h"
#include "kernels/cuda/convert.h"
#include "kernels/cuda/fold_bn.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/front_logits.h"

namespace thaw::cuda_test {
namespace {

ConvGeom small_geom() {
  ConvGeom g;
  g.n = 2, g.c_in = 16, g.h_in = 9, g.w_in = 9, g.c_out = 24, g.kh = 3, g.kw = 3, g.ph = 1, g.pw = 1;
  return g;
}

// cuDNN builds and finalizes descriptors without a device; the operation graph may want one, in
// which case these tests say so and skip.
cuda::ConvGraph graph_or_skip(cuda::ConvDirection dir, cuda::ConvMath math, cuda::ConvLayout layout, bool& skipped) {
  std::string log;
  try {
    return cuda::build_conv_graph(dir, small_geom(), math, layout, nullptr, log);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find("operation graph") == std::string::npos) throw;
    skipped = true;
    return {};
  }
}

// A tensor descriptor's unique id and whether it is virtual, read back from cuDNN.
std::pair<int64_t, bool> uid_and_virtual(const cuda::BackendDescriptor& t) {
  int64_t uid = -1, n = 0;
  bool is_virtual = false;
  EXPECT_EQ(cudnnBackendGetAttribute(t.get(), CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &n, &uid),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnBackendGetAttribute(t.get(), CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &n, &is_virtual),
            CUDNN_STATUS_SUCCESS);
  return {uid, is_virtual};
}

cudnnDataType_t type_of(const cuda::BackendDescriptor& t) {
  cudnnDataType_t type{};
  int64_t n = 0;
  EXPECT_EQ(cudnnBackendGetAttribute(t.get(), CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &n, &type),
            CUDNN_STATUS_SUCCESS);
  return type;
}

std::vector<int64_t> strides_of(const cuda::BackendDescriptor& t) {
  std::vector<int64_t> s(4, -1);
  int64_t n = 0;
  EXPECT_EQ(cudnnBackendGetAttribute(t.get(), CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, &n, s.data()),
            CUDNN_STATUS_SUCCESS);
  s.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
  return s;
}

TEST(ConvGraph, AFusedForwardIsTheConvolutionThenAddThenRelu) {
  bool skipped = false;
  const cuda::ConvGraph fused =
      graph_or_skip(cuda::ConvDirection::forward, cuda::ConvMath::bf16, {true, 40, true}, skipped);
  if (skipped) GTEST_SKIP() << "this cuDNN finalizes an operation graph only with a device";
  EXPECT_EQ(fused.ops, 3);
  ASSERT_TRUE(fused.conv_out && fused.biased && fused.bias && fused.add_op && fused.relu_op);
  // The variant pack binds x, w, y and the bias; the two intermediates have no memory.
  const std::vector<std::pair<int64_t, bool>> want = {{cuda::kConvUidX, false},       {cuda::kConvUidW, false},
                                                      {cuda::kConvUidY, false},       {cuda::kConvUidBias, false},
                                                      {cuda::kConvUidConvOut, true}, {cuda::kConvUidBiased, true}};
  const std::vector<std::pair<int64_t, bool>> got = {uid_and_virtual(fused.x),        uid_and_virtual(fused.w),
                                                     uid_and_virtual(fused.y),        uid_and_virtual(fused.bias),
                                                     uid_and_virtual(fused.conv_out), uid_and_virtual(fused.biased)};
  EXPECT_EQ(got, want);
  // bf16 in and out; the sum and the ReLU's input in fp32, as is the bias, one per channel.
  EXPECT_EQ(type_of(fused.x), CUDNN_DATA_BFLOAT16);
  EXPECT_EQ(type_of(fused.y), CUDNN_DATA_BFLOAT16);
  EXPECT_EQ(type_of(fused.conv_out), CUDNN_DATA_FLOAT);
  EXPECT_EQ(type_of(fused.biased), CUDNN_DATA_FLOAT);
  EXPECT_EQ(type_of(fused.bias), CUDNN_DATA_FLOAT);
  const int64_t k = small_geom().c_out, wide = 40, hw = small_geom().h_out() * small_geom().w_out();
  EXPECT_EQ(strides_of(fused.bias), (std::vector<int64_t>{k, 1, k, k}));
  // The output is the slice: channels-last strides of the 40-channel concatenation; the virtual
  // tensors are packed.
  EXPECT_EQ(strides_of(fused.y), (std::vector<int64_t>{hw * wide, 1, small_geom().w_out() * wide, wide}));
  EXPECT_EQ(strides_of(fused.conv_out), (std::vector<int64_t>{hw * k, 1, small_geom().w_out() * k, k}));
  std::vector<int64_t> uids;
  for (const auto& [uid, v] : got) uids.push_back(uid);
  std::sort(uids.begin(), uids.end());
  EXPECT_EQ(std::adjacent_find(uids.begin(), uids.end()), uids.end()) << "two tensors share a unique id";
  const cuda::ConvGraph plain = graph_or_skip(cuda::ConvDirection::forward, cuda::ConvMath::fp32, {}, skipped);
  EXPECT_EQ(plain.ops, 1);
  EXPECT_FALSE(plain.conv_out || plain.bias || plain.relu_op);
}

TEST(ConvGraph, OnlyAForwardTakesAFusedOrSlicedOutput) {
  std::string log;
  for (const cuda::ConvLayout layout : {cuda::ConvLayout{false, 40, false}, cuda::ConvLayout{false, 0, true},
                                        cuda::ConvLayout{true, 40, false}}) {
    for (const auto dir : {cuda::ConvDirection::backward_data, cuda::ConvDirection::backward_weight}) {
      EXPECT_THROW(cuda::build_conv_graph(dir, small_geom(), cuda::ConvMath::fp32, layout, nullptr, log), InternalError);
    }
  }
  // A slice no wider than the output is a wiring error, not a concatenation.
  EXPECT_THROW(cuda::build_conv_graph(cuda::ConvDirection::forward, small_geom(), cuda::ConvMath::fp32,
                                      {false, small_geom().c_out, true}, nullptr, log),
               InternalError);
}

// The channels-last trainable part (CudaExecutor under ChannelsLast::all) takes both gradients
// channels-last: activations NHWC, filters [k, r, s, c].
TEST(ConvGraph, BothGradientsTakeChannelsLastOperands) {
  const ConvGeom g = small_geom();
  for (const auto dir : {cuda::ConvDirection::backward_data, cuda::ConvDirection::backward_weight}) {
    bool skipped = false;
    const cuda::ConvGraph cg = graph_or_skip(dir, cuda::ConvMath::bf16, {true}, skipped);
    if (skipped) GTEST_SKIP() << "this cuDNN finalizes an operation graph only with a device";
    EXPECT_EQ(cg.ops, 1);
    EXPECT_EQ(strides_of(cg.x), (std::vector<int64_t>{g.h_in * g.w_in * g.c_in, 1, g.w_in * g.c_in, g.c_in}));
    EXPECT_EQ(strides_of(cg.w), (std::vector<int64_t>{g.kh * g.kw * g.c_in, 1, g.kw * g.c_in, g.c_in}));
    EXPECT_EQ(strides_of(cg.y),
              (std::vector<int64_t>{g.h_out() * g.w_out() * g.c_out, 1, g.w_out() * g.c_out, g.c_out}));
    EXPECT_EQ(type_of(cg.x), CUDNN_DATA_BFLOAT16);
  }
  const std::string key = cuda::conv_problem_key(cuda::ConvDirection::backward_data, g, cuda::ConvMath::bf16, {true});
  EXPECT_NE(key, cuda::conv_problem_key(cuda::ConvDirection::backward_data, g, cuda::ConvMath::bf16, {}));
}

// The key is the plan cache's and the replay pins' name for a problem: a fused and a plain plan of
// the same convolution must never share one.
TEST(ConvGraph, TheFusedProblemHasItsOwnKey) {
  const ConvGeom g = small_geom();
  const std::string plain = cuda::conv_problem_key(cuda::ConvDirection::forward, g, cuda::ConvMath::bf16, {true, 40});
  const std::string fused =
      cuda::conv_problem_key(cuda::ConvDirection::forward, g, cuda::ConvMath::bf16, {true, 40, true});
  EXPECT_NE(plain, fused);
  EXPECT_EQ(fused, plain + " +bias-relu");
}

using FusedEpilogueTest = CudaTest;

// Random floats on the device as S, and S back as floats on the host.
template <typename S>
cuda::DeviceBuffer<S> device_as(FusedEpilogueTest& t, const std::vector<float>& v) {
  if constexpr (std::is_same_v<S, float>) {
    return t.to_device(v);
  } else {
    auto f = t.to_device(v);
    cuda::DeviceBuffer<cuda::bf16> b(v.size());
    cuda::to_bf16(t.ctx(), static_cast<int64_t>(v.size()), f.data(), b.data());
    t.ctx().synchronize("test conversion");
    return b;
  }
}

template <typename S>
std::vector<float> host_floats(FusedEpilogueTest& t, const cuda::DeviceBuffer<S>& d) {
  if constexpr (std::is_same_v<S, float>) {
    return t.to_host(d);
  } else {
    cuda::DeviceBuffer<float> f(d.size());
    cuda::to_float(t.ctx(), static_cast<int64_t>(d.size()), d.data(), f.data());
    return t.to_host(f);
  }
}

// One problem: the fused graph against conv2d_forward then bias_relu, written into channels
// [before, before + c_out) of a tensor of before + c_out + after channels. fp32: within float
// rounding (cuDNN may pick another engine); bf16: the fused graph rounds once where the separate
// ops round the convolution's output too, so within a bf16 rounding of the value. `must_fuse`: an
// engine must take it (bf16 NHWC on Hopper, the runtime-fusion engines' home).
template <typename S>
void check_against_separate(FusedEpilogueTest& t, bool nhwc, int64_t before, int64_t after, bool must_fuse = false) {
  const ConvGeom g = small_geom();
  const bool bf16 = std::is_same_v<S, cuda::bf16>;
  const int64_t hw = g.h_out() * g.w_out(), wide_c = before + g.c_out + after;
  const bool slice = wide_c > g.c_out;
  const cuda::ConvLayout layout{nhwc, slice ? wide_c : 0};
  auto d_x = device_as<S>(t, random_floats(g.x_size(), 80)), d_w = device_as<S>(t, random_floats(g.w_size(), 81, -0.2f, 0.2f));
  auto d_b = t.to_device(random_floats(g.c_out, 82));
  const std::vector<float> fill(static_cast<size_t>(g.n * wide_c * hw), 7.0f);  // exact in bf16 too
  auto d_apart = device_as<S>(t, fill), d_fused = device_as<S>(t, fill), d_again = device_as<S>(t, fill);
  // Channel `before` of sample 0: the slice's start in either layout.
  const int64_t start = nhwc ? before : before * hw;
  cuda::conv2d_forward<S>(t.ctx(), g, d_x.data(), d_w.data(), d_apart.data() + start, layout);
  if (nhwc) {
    cuda::bias_relu_nhwc<S>(t.ctx(), g.n * hw, g.c_out, d_b.data(), d_apart.data() + start, slice ? wide_c : 0);
  } else {
    cuda::bias_relu<S>(t.ctx(), g.n, g.c_out, hw, d_b.data(), d_apart.data() + start, slice ? wide_c * hw : 0);
  }
  const std::string name =
      std::string(bf16 ? "bf16 " : "fp32 ") + (nhwc ? "nhwc" : "nchw") + (slice ? " slice" : " packed");
  const bool ran =
      cuda::conv2d_forward_bias_relu<S>(t.ctx(), g, d_x.data(), d_w.data(), d_b.data(), d_fused.data() + start, layout);
  cuda::ConvLayout fused_layout = layout;
  fused_layout.bias_relu = true;
  const std::string key = cuda::conv_problem_key(cuda::ConvDirection::forward, g,
                                                 bf16 ? cuda::ConvMath::bf16 : cuda::ConvMath::fp32, fused_layout);
  const cuda::CachedPlan* cached = t.ctx().plans().find(key);
  ASSERT_NE(cached, nullptr) << "the fused problem's answer is not cached: " << key;
  if (!ran) {
    std::printf("[fused] %s: no engine takes conv + bias + ReLU; run apart: %s\n", name.c_str(),
                cached->describe().c_str());
    EXPECT_FALSE(must_fuse && t.ctx().info().cc_major >= 9) << name << ": no engine fused it on this Hopper GPU";
    EXPECT_EQ(cached->identity(), cuda::kNoEngine);
    EXPECT_TRUE(same_bits(name + ": nothing queued", host_floats(t, d_fused), fill));
    return;
  }
  std::printf("[fused] %s: %s\n", name.c_str(), cached->describe().c_str());
  ASSERT_TRUE(cuda::conv2d_forward_bias_relu<S>(t.ctx(), g, d_x.data(), d_w.data(), d_b.data(),
                                                d_again.data() + start, layout));
  const std::vector<float> apart = host_floats(t, d_apart), fused = host_floats(t, d_fused);
  EXPECT_TRUE(same_bits(name + " twice", host_floats(t, d_again), fused));
  double worst = 0, scale = 0;
  int64_t outside = 0, negative = 0;
  for (size_t i = 0; i < fused.size(); ++i) {
    const int64_t c = nhwc ? static_cast<int64_t>(i) % wide_c : (static_cast<int64_t>(i) / hw) % wide_c;
    if (c < before || c >= before + g.c_out) {
      outside += fused[i] != 7.0f;
      continue;
    }
    negative += fused[i] < 0.0f;
    worst = std::max(worst, std::fabs(double{fused[i]} - apart[i]));
    scale = std::max(scale, std::fabs(double{apart[i]}));
  }
  std::printf("[fused] %s: max |fused - apart| %.3g of %.3g\n", name.c_str(), worst, scale);
  EXPECT_EQ(outside, 0) << "values outside the slice changed";
  EXPECT_EQ(negative, 0) << "the ReLU let negative values through";
  EXPECT_LE(worst, (bf16 ? 1e-2 : 1e-5) * scale);
  EXPECT_GT(scale, 0.0);
}

TEST_F(FusedEpilogueTest, PackedNchwMatchesTheSeparateOps) { check_against_separate<float>(*this, false, 0, 0); }
TEST_F(FusedEpilogueTest, ChannelsLastMatchesTheSeparateOps) { check_against_separate<float>(*this, true, 0, 0); }
TEST_F(FusedEpilogueTest, AConcatenationSliceMatchesTheSeparateOps) {
  check_against_separate<float>(*this, true, 8, 8);
  check_against_separate<float>(*this, false, 8, 8);
}
TEST_F(FusedEpilogueTest, Bf16ChannelsLastFusesAndMatchesTheSeparateOps) {
  check_against_separate<cuda::bf16>(*this, true, 0, 0, true);
  check_against_separate<cuda::bf16>(*this, true, 8, 8);
}

// A replay whose record says no engine took the fused problem keeps the epilogue apart, whatever
// this library offers, and nothing of the record is listed as missed.
TEST_F(FusedEpilogueTest, ARecordedNoEngineKeepsTheEpilogueApart) {
  const ConvGeom g = small_geom();
  const std::string key =
      cuda::conv_problem_key(cuda::ConvDirection::forward, g, cuda::ConvMath::fp32, {true, 0, true});
  ctx().set_pins({{key, cuda::kNoEngine}});
  auto d_x = to_device(random_floats(g.x_size(), 83)), d_w = to_device(random_floats(g.w_size(), 84));
  auto d_b = to_device(random_floats(g.c_out, 85));
  const std::vector<float> fill(static_cast<size_t>(g.y_size()), 7.0f);
  auto d_y = to_device(fill);
  EXPECT_FALSE(cuda::conv2d_forward_bias_relu<float>(ctx(), g, d_x.data(), d_w.data(), d_b.data(), d_y.data(),
                                                     cuda::ConvLayout{true}));
  EXPECT_TRUE(same_bits("nothing queued", to_host(d_y), fill));
  ASSERT_NE(ctx().plans().find(key), nullptr);
  EXPECT_EQ(ctx().plans().find(key)->identity(), cuda::kNoEngine);
  EXPECT_TRUE(ctx().pins_missed().empty());
}

// The logits of a forward frozen through mixed_6h with the channels-last front, fused or not.
std::vector<float> front_logits(CudaTest& t, bool fused, bool bf16, int* fused_groups = nullptr) {
  return mixed_6h_logits(
      t, bf16,
      [&](CudaExecutor& exec) {
        exec.set_channels_last(ChannelsLast::front);
        exec.set_fused_epilogue(fused);
      },
      [&](const CudaExecutor& exec) {
        if (fused_groups) *fused_groups = exec.fused_groups();
      });
}

void check_front(CudaTest& t, bool bf16, double tolerance) {
  int groups = -1;
  const std::vector<float> fused = front_logits(t, true, bf16, &groups), apart = front_logits(t, false, bf16);
  const char* name = bf16 ? "bf16" : "fp32";
  ASSERT_GE(groups, 0);
  if (groups == 0) {
    std::printf("[fused] %s front: no group ran fused (no engine takes them here)\n", name);
    EXPECT_FALSE(bf16 && t.ctx().info().cc_major >= 9) << "no frozen group of the bf16 front fused on this Hopper GPU";
    EXPECT_TRUE(same_bits("no group fused: the unfused front's bits", fused, apart));
    return;
  }
  double worst = 0, scale = 0;
  for (size_t i = 0; i < fused.size(); ++i) {
    worst = std::max(worst, std::fabs(double{fused[i]} - apart[i]));
    scale = std::max(scale, std::fabs(double{apart[i]}));
  }
  std::printf("[fused] %s front, 299 batch 2, frozen through mixed_6h, %d groups fused: max |logit diff| %.3g of %.3g\n",
              name, groups, worst, scale);
  EXPECT_LE(worst, tolerance * scale);
  EXPECT_GT(scale, 0.0);
  EXPECT_TRUE(same_bits(std::string(name) + " fused front twice", fused, front_logits(t, true, bf16)));
}

TEST_F(FusedEpilogueTest, AFusedFrontGivesTheUnfusedLogits) { check_front(*this, false, 1e-3); }
// In bf16 the fused graph rounds once where the separate ops round the convolution's output too.
TEST_F(FusedEpilogueTest, Bf16FusedFrontGivesTheUnfusedLogits) { check_front(*this, true, 3e-2); }

}  // namespace
}  // namespace thaw::cuda_test
