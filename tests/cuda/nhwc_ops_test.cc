// The trainable part's ops in channels-last storage (kernels/cuda/layout.h; CudaExecutor under
// ChannelsLast::all): max pool with its argmax and gradient, average pool, global pool, batch norm
// (training and frozen statistics, alone and fused with its ReLU) and the concatenation's
// gradient each give their NCHW call's bits once transposed, since only the addresses change. The
// convolution's data and weight gradients in NHWC with [k, r, s, c] filters match the NCHW ones
// within the float dot-product rule (cuDNN's engines differ between layouts), overwriting and
// accumulating, and the weight gradient comes back to [k, c, r, s] exactly; so do the stem's, its
// image padded to 8 channels.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda/avgpool.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/channel_chunks.h"
#include "kernels/cuda/channels_last.h"
#include "kernels/cuda/concat.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/global_avgpool.h"
#include "kernels/cuda/maxpool.h"
#include "tests/cuda/cuda_test_util.h"

namespace thaw::cuda_test {
namespace {

using ChannelsLastOpsTest = CudaTest;
using cuda::Layout;

constexpr int64_t kN = 2, kC = 12, kH = 9, kW = 7;

PoolGeom pool(int64_t pad, bool count_pad) {
  PoolGeom g;
  g.n = kN, g.c = kC, g.h_in = kH, g.w_in = kW, g.k = 3, g.stride = 2 - pad, g.pad = pad, g.count_pad = count_pad;
  return g;
}

TEST_F(ChannelsLastOpsTest, MaxPoolItsArgmaxAndGradientGiveTheNchwBits) {
  const std::vector<float> x = random_floats(kN * kC * kH * kW, 80), dx0 = random_floats(x.size(), 81);
  auto d_x = to_device(x), d_xl = to_device(to_nhwc(x, kN, kC, kH * kW));
  for (const int64_t pad : {0, 1}) {
    const PoolGeom g = pool(pad, false);
    const int64_t hw = g.h_out() * g.w_out();
    const std::vector<float> dy = random_floats(g.y_size(), 82);
    auto d_dy = to_device(dy), d_dyl = to_device(to_nhwc(dy, kN, kC, hw));
    auto d_dx = to_device(dx0), d_dxl = to_device(to_nhwc(dx0, kN, kC, kH * kW));
    cuda::DeviceBuffer<float> d_y(static_cast<size_t>(g.y_size())), d_yl(static_cast<size_t>(g.y_size()));
    cuda::DeviceBuffer<int32_t> d_arg(static_cast<size_t>(g.y_size())), d_argl(static_cast<size_t>(g.y_size()));
    cuda::maxpool_forward<float>(ctx(), g, d_x.data(), d_y.data(), d_arg.data());
    cuda::maxpool_forward<float>(ctx(), g, d_xl.data(), d_yl.data(), d_argl.data(), Layout::nhwc);
    cuda::maxpool_backward<float>(ctx(), g, d_dy.data(), d_arg.data(), d_dx.data());
    cuda::maxpool_backward<float>(ctx(), g, d_dyl.data(), d_argl.data(), d_dxl.data(), Layout::nhwc);
    const std::string tag = "max pool pad " + std::to_string(pad);
    EXPECT_TRUE(same_bits(tag, to_host(d_yl), to_nhwc(to_host(d_y), kN, kC, hw)));
    EXPECT_TRUE(all_equal(tag + " argmax", to_host(d_argl), to_nhwc(to_host(d_arg), kN, kC, hw)));
    EXPECT_TRUE(same_bits(tag + " gradient", to_host(d_dxl), to_nhwc(to_host(d_dx), kN, kC, kH * kW)));
    EXPECT_FALSE(same_bits(tag + " gradient added nothing", to_host(d_dx), dx0));
  }
}

TEST_F(ChannelsLastOpsTest, AveragePoolsAndTheGlobalPoolGiveTheNchwBits) {
  const std::vector<float> x = random_floats(kN * kC * kH * kW, 83), dx0 = random_floats(x.size(), 84);
  auto d_x = to_device(x), d_xl = to_device(to_nhwc(x, kN, kC, kH * kW));
  for (const bool count_pad : {false, true}) {
    for (const int64_t pad : {0, 1}) {
      const PoolGeom g = pool(pad, count_pad);
      const int64_t hw = g.h_out() * g.w_out();
      const std::vector<float> dy = random_floats(g.y_size(), 85);
      auto d_dy = to_device(dy), d_dyl = to_device(to_nhwc(dy, kN, kC, hw));
      auto d_dx = to_device(dx0), d_dxl = to_device(to_nhwc(dx0, kN, kC, kH * kW));
      cuda::DeviceBuffer<float> d_y(static_cast<size_t>(g.y_size())), d_yl(static_cast<size_t>(g.y_size()));
      cuda::avgpool_forward<float>(ctx(), g, d_x.data(), d_y.data());
      cuda::avgpool_forward<float>(ctx(), g, d_xl.data(), d_yl.data(), Layout::nhwc);
      cuda::avgpool_backward<float>(ctx(), g, d_dy.data(), d_dx.data());
      cuda::avgpool_backward<float>(ctx(), g, d_dyl.data(), d_dxl.data(), Layout::nhwc);
      const std::string tag = "avg pool pad " + std::to_string(pad) + (count_pad ? " counting padding" : "");
      EXPECT_TRUE(same_bits(tag, to_host(d_yl), to_nhwc(to_host(d_y), kN, kC, hw)));
      EXPECT_TRUE(same_bits(tag + " gradient", to_host(d_dxl), to_nhwc(to_host(d_dx), kN, kC, kH * kW)));
    }
  }
  // The global pool's output and incoming gradient are [n, c] in both layouts.
  const std::vector<float> dy = random_floats(kN * kC, 86);
  auto d_dy = to_device(dy), d_dx = to_device(dx0), d_dxl = to_device(to_nhwc(dx0, kN, kC, kH * kW));
  cuda::DeviceBuffer<float> d_y(static_cast<size_t>(kN * kC)), d_yl(static_cast<size_t>(kN * kC));
  cuda::global_avgpool_forward<float>(ctx(), kN, kC, kH * kW, d_x.data(), d_y.data());
  cuda::global_avgpool_forward<float>(ctx(), kN, kC, kH * kW, d_xl.data(), d_yl.data(), Layout::nhwc);
  cuda::global_avgpool_backward<float>(ctx(), kN, kC, kH * kW, d_dy.data(), d_dx.data());
  cuda::global_avgpool_backward<float>(ctx(), kN, kC, kH * kW, d_dy.data(), d_dxl.data(), Layout::nhwc);
  EXPECT_TRUE(same_bits("global pool", to_host(d_yl), to_host(d_y)));
  EXPECT_TRUE(same_bits("global pool gradient", to_host(d_dxl), to_nhwc(to_host(d_dx), kN, kC, kH * kW)));
}

// Every output of one batch-norm call: y (or the fused ReLU's output), the saved statistics, the
// running statistics, dx and the parameter gradients.
struct BnRun {
  std::vector<float> y, save_mean, save_invstd, running_mean, running_var, dx, dgamma, dbeta;
};

BnRun run_bn(CudaTest& t, const BnGeom& g, Layout layout, bool train, bool relu) {
  const bool nhwc = layout == Layout::nhwc;
  const int64_t c = g.c;
  auto host = [&](const std::vector<float>& v) { return nhwc ? to_nhwc(v, g.n, c, g.hw) : v; };
  auto d_x = t.to_device(host(random_floats(g.size(), 87, -2.0f, 3.0f)));
  auto d_dy = t.to_device(host(random_floats(g.size(), 88)));
  auto d_dx = t.to_device(host(random_floats(g.size(), 89)));
  auto d_gamma = t.to_device(random_floats(c, 90, 0.5f, 1.5f)), d_beta = t.to_device(random_floats(c, 91));
  auto d_rm = t.to_device(random_floats(c, 92)), d_rv = t.to_device(random_floats(c, 93, 0.5f, 2.0f));
  auto d_dgamma = t.to_device(random_floats(c, 94)), d_dbeta = t.to_device(random_floats(c, 95));
  cuda::DeviceBuffer<float> d_y(static_cast<size_t>(g.size()));
  cuda::DeviceBuffer<float> d_mean(static_cast<size_t>(c)), d_invstd(static_cast<size_t>(c));
  if (train) {
    cuda::batchnorm_forward_train<float>(t.ctx(), g, d_x.data(), d_gamma.data(), d_beta.data(), d_rm.data(),
                                         d_rv.data(), d_y.data(), d_mean.data(), d_invstd.data(), relu, layout);
    cuda::batchnorm_backward_train<float>(t.ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_mean.data(),
                                          d_invstd.data(), d_dx.data(), d_dgamma.data(), d_dbeta.data(),
                                          relu ? d_y.data() : nullptr, layout);
  } else {
    d_mean.fill_bytes(0, t.stream());
    d_invstd.fill_bytes(0, t.stream());
    cuda::batchnorm_forward_infer<float>(t.ctx(), g, d_x.data(), d_gamma.data(), d_beta.data(), d_rm.data(),
                                         d_rv.data(), d_y.data(), relu, layout);
    cuda::batchnorm_backward_infer<float>(t.ctx(), g, d_x.data(), d_dy.data(), d_gamma.data(), d_rm.data(),
                                          d_rv.data(), d_dx.data(), d_dgamma.data(), d_dbeta.data(),
                                          relu ? d_y.data() : nullptr, layout);
  }
  auto back = [&](std::vector<float> v) { return nhwc ? to_nchw(v, g.n, c, g.hw) : v; };
  return {back(t.to_host(d_y)),  t.to_host(d_mean),  t.to_host(d_invstd), t.to_host(d_rm),
          t.to_host(d_rv),       back(t.to_host(d_dx)), t.to_host(d_dgamma), t.to_host(d_dbeta)};
}

// Channels-last sums each run's shares in blocks of 16 channels, then the shares' tree apart
// (kernels/cuda/batchnorm.cu): the same additions as NCHW, for one run per channel and for three
// (20 channels: a partial block of channels).
TEST_F(ChannelsLastOpsTest, BatchNormGivesTheNchwBits) {
  BnGeom one, three;
  one.n = kN, one.c = kC, one.hw = kH * kW;
  three.n = 2, three.c = 20, three.hw = 40000;
  ASSERT_EQ(cuda::ChannelChunks::of(three.n, three.c, three.hw).chunks, 3);
  for (const BnGeom& g : {one, three}) {
    for (const bool train : {true, false}) {
      for (const bool relu : {false, true}) {
        const BnRun a = run_bn(*this, g, Layout::nchw, train, relu), b = run_bn(*this, g, Layout::nhwc, train, relu);
        const std::string tag = std::string(train ? "batch norm (batch statistics)" : "batch norm (running)") +
                                (relu ? " + relu" : "") + ", " + std::to_string(g.c) + " channels";
        EXPECT_TRUE(same_bits(tag + " y", b.y, a.y));
        EXPECT_TRUE(same_bits(tag + " saved mean", b.save_mean, a.save_mean));
        EXPECT_TRUE(same_bits(tag + " saved invstd", b.save_invstd, a.save_invstd));
        EXPECT_TRUE(same_bits(tag + " running mean", b.running_mean, a.running_mean));
        EXPECT_TRUE(same_bits(tag + " running var", b.running_var, a.running_var));
        EXPECT_TRUE(same_bits(tag + " dx", b.dx, a.dx));
        EXPECT_TRUE(same_bits(tag + " dgamma", b.dgamma, a.dgamma));
        EXPECT_TRUE(same_bits(tag + " dbeta", b.dbeta, a.dbeta));
      }
    }
  }
}

TEST_F(ChannelsLastOpsTest, TheConcatenationsGradientGivesTheNchwBits) {
  const int64_t hw = kH * kW, c0 = 8, c1 = kC - c0;
  const std::vector<float> dy = random_floats(kN * kC * hw, 96);
  const std::vector<float> a0 = random_floats(kN * c0 * hw, 97), b0 = random_floats(kN * c1 * hw, 98);
  auto d_dy = to_device(dy), d_dyl = to_device(to_nhwc(dy, kN, kC, hw));
  auto d_a = to_device(a0), d_b = to_device(b0);
  auto d_al = to_device(to_nhwc(a0, kN, c0, hw)), d_bl = to_device(to_nhwc(b0, kN, c1, hw));
  cuda::concat_backward<float>(ctx(), kN, hw, d_dy.data(), {{d_a.data(), c0}, {d_b.data(), c1}});
  cuda::concat_backward<float>(ctx(), kN, hw, d_dyl.data(), {{d_al.data(), c0}, {d_bl.data(), c1}}, Layout::nhwc);
  EXPECT_TRUE(same_bits("concat gradient, first input", to_host(d_al), to_nhwc(to_host(d_a), kN, c0, hw)));
  EXPECT_TRUE(same_bits("concat gradient, second input", to_host(d_bl), to_nhwc(to_host(d_b), kN, c1, hw)));
  EXPECT_FALSE(same_bits("concat gradient added nothing", to_host(d_a), a0));
}

TEST_F(ChannelsLastOpsTest, FilterAndDataGradientsMatchTheNchwOnes) {
  ConvGeom g;
  g.n = 2, g.c_in = 16, g.h_in = 9, g.w_in = 9, g.c_out = 24, g.kh = 3, g.kw = 3, g.ph = 1, g.pw = 1;
  const int64_t hw_in = g.h_in * g.w_in, hw_out = g.h_out() * g.w_out(), rs = g.kh * g.kw;
  const std::vector<float> x = random_floats(g.x_size(), 99), w = random_floats(g.w_size(), 100);
  const std::vector<float> dy = random_floats(g.y_size(), 101), dx0 = random_floats(g.x_size(), 102);
  auto d_x = to_device(x), d_w = to_device(w), d_dy = to_device(dy);
  auto d_xl = to_device(to_nhwc(x, g.n, g.c_in, hw_in)), d_wl = to_device(to_nhwc(w, g.c_out, g.c_in, rs));
  auto d_dyl = to_device(to_nhwc(dy, g.n, g.c_out, hw_out));
  for (const cuda::OutputMode mode : {cuda::OutputMode::overwrite, cuda::OutputMode::accumulate}) {
    const std::string tag = mode == cuda::OutputMode::overwrite ? " (overwrite)" : " (accumulate)";
    auto d_dx = to_device(dx0), d_dxl = to_device(to_nhwc(dx0, g.n, g.c_in, hw_in));
    cuda::conv2d_backward_data<float>(ctx(), g, d_dy.data(), d_w.data(), d_dx.data(), mode);
    cuda::conv2d_backward_data<float>(ctx(), g, d_dyl.data(), d_wl.data(), d_dxl.data(), mode, true);
    EXPECT_TRUE(all_close("nhwc dgrad" + tag, to_nchw(to_host(d_dxl), g.n, g.c_in, hw_in), to_host(d_dx),
                          float_dot(g.c_out * rs, 1.0)));
  }
  cuda::DeviceBuffer<float> d_dw(static_cast<size_t>(g.w_size())), d_dwl(static_cast<size_t>(g.w_size()));
  cuda::DeviceBuffer<float> d_dw_back(static_cast<size_t>(g.w_size()));
  cuda::conv2d_backward_weight<float>(ctx(), g, d_x.data(), d_dy.data(), d_dw.data(), cuda::OutputMode::overwrite);
  cuda::conv2d_backward_weight<float>(ctx(), g, d_xl.data(), d_dyl.data(), d_dwl.data(), cuda::OutputMode::overwrite,
                                      true);
  cuda::krsc_to_kcrs<float>(ctx(), g.c_out, g.c_in, rs, d_dwl.data(), d_dw_back.data());
  EXPECT_TRUE(same_bits("krsc to kcrs", to_host(d_dw_back), to_nchw(to_host(d_dwl), g.c_out, g.c_in, rs)));
  EXPECT_TRUE(all_close("nhwc wgrad", to_host(d_dw_back), to_host(d_dw), float_dot(g.n * hw_out, 1.0)));
}

// The stem's convolution under channels-last reads the image with its 3 channels padded to 8 (zeros)
// and filters with zero taps there (cuda::pixel_channels): its output and its weight gradient, the
// padding's taps dropped, match the unpadded NCHW convolution's.
TEST_F(ChannelsLastOpsTest, AnImagePaddedToEightChannelsGivesTheThreeChannelResult) {
  ConvGeom g;
  g.n = 2, g.c_in = 3, g.h_in = 17, g.w_in = 17, g.c_out = 32, g.kh = 3, g.kw = 3, g.sh = 2, g.sw = 2;
  ConvGeom padded = g;
  padded.c_in = cuda::pixel_channels(g.c_in);
  ASSERT_EQ(padded.c_in, 8);
  const int64_t hw_in = g.h_in * g.w_in, hw_out = g.h_out() * g.w_out(), rs = g.kh * g.kw;
  const std::vector<float> x = random_floats(g.x_size(), 103), w = random_floats(g.w_size(), 104);
  const std::vector<float> dy = random_floats(g.y_size(), 105);
  auto d_x = to_device(x), d_w = to_device(w), d_dy = to_device(dy), d_dyl = to_device(to_nhwc(dy, g.n, g.c_out, hw_out));
  cuda::DeviceBuffer<float> d_xl(static_cast<size_t>(padded.x_size())), d_wl(static_cast<size_t>(padded.w_size()));
  cuda::nchw_to_nhwc<float>(ctx(), g.n, g.c_in, hw_in, d_x.data(), d_xl.data(), padded.c_in);
  cuda::kcrs_to_krsc(ctx(), g.c_out, g.c_in, rs, d_w.data(), d_wl.data(), padded.c_in);
  std::vector<float> want_xl(static_cast<size_t>(padded.x_size()), 0.0f);
  const std::vector<float> packed = to_nhwc(x, g.n, g.c_in, hw_in);
  for (int64_t p = 0; p < g.n * hw_in; ++p) {
    for (int64_t ch = 0; ch < g.c_in; ++ch) want_xl[static_cast<size_t>(p * 8 + ch)] = packed[static_cast<size_t>(p * 3 + ch)];
  }
  EXPECT_TRUE(same_bits("padded image", to_host(d_xl), want_xl));
  // The filters' taps for the padding are zeros, the rest [k, r, s, c] of the masters.
  std::vector<float> want_wl(static_cast<size_t>(padded.w_size()), 0.0f);
  const std::vector<float> krsc = to_nhwc(w, g.c_out, g.c_in, rs);
  for (int64_t t = 0; t < g.c_out * rs; ++t) {
    for (int64_t ch = 0; ch < g.c_in; ++ch) want_wl[static_cast<size_t>(t * 8 + ch)] = krsc[static_cast<size_t>(t * 3 + ch)];
  }
  EXPECT_TRUE(same_bits("padded filters", to_host(d_wl), want_wl));
  cuda::DeviceBuffer<float> d_y(static_cast<size_t>(g.y_size())), d_yl(static_cast<size_t>(g.y_size()));
  cuda::conv2d_forward<float>(ctx(), g, d_x.data(), d_w.data(), d_y.data());
  cuda::conv2d_forward<float>(ctx(), padded, d_xl.data(), d_wl.data(), d_yl.data(), cuda::ConvLayout{true});
  EXPECT_TRUE(all_close("padded forward", to_nchw(to_host(d_yl), g.n, g.c_out, hw_out), to_host(d_y),
                        float_dot(padded.c_in * rs, 1.0)));
  cuda::DeviceBuffer<float> d_dw(static_cast<size_t>(g.w_size())), d_dwl(static_cast<size_t>(padded.w_size()));
  cuda::DeviceBuffer<float> d_dw_back(static_cast<size_t>(g.w_size()));
  cuda::conv2d_backward_weight<float>(ctx(), g, d_x.data(), d_dy.data(), d_dw.data(), cuda::OutputMode::overwrite);
  cuda::conv2d_backward_weight<float>(ctx(), padded, d_xl.data(), d_dyl.data(), d_dwl.data(),
                                      cuda::OutputMode::overwrite, true);
  cuda::krsc_to_kcrs<float>(ctx(), g.c_out, g.c_in, rs, d_dwl.data(), d_dw_back.data(), padded.c_in);
  // Back in [k, c, r, s], the padding's gradients dropped, bit for bit.
  const std::vector<float> dwl = to_host(d_dwl);
  std::vector<float> want_back(static_cast<size_t>(g.w_size()));
  for (int64_t k = 0; k < g.c_out; ++k) {
    for (int64_t ch = 0; ch < g.c_in; ++ch) {
      for (int64_t p = 0; p < rs; ++p) {
        want_back[static_cast<size_t>((k * g.c_in + ch) * rs + p)] = dwl[static_cast<size_t>((k * rs + p) * 8 + ch)];
      }
    }
  }
  EXPECT_TRUE(same_bits("padded wgrad back to kcrs", to_host(d_dw_back), want_back));
  EXPECT_TRUE(all_close("padded wgrad", to_host(d_dw_back), to_host(d_dw), float_dot(g.n * hw_out, 1.0)));
}

}  // namespace
}  // namespace thaw::cuda_test
