// Optimizer state round trip (stop, save, restore into a fresh optimizer, continue: the same bits
// as never stopping), thread-count independence, and config validation.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/optim/optimizer.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

// Parameters and gradients from closed-form sequences: no RNG, the same on every machine.
template <typename T>
struct Model {
  std::vector<T> conv_w, bn_b, grad_conv_w, grad_bn_b;
  explicit Model(int64_t n) : conv_w(n), bn_b(7), grad_conv_w(n), grad_bn_b(7) {
    for (int64_t i = 0; i < n; ++i) conv_w[i] = static_cast<T>(std::sin(0.37 * i + 1));
    for (int i = 0; i < 7; ++i) bn_b[i] = static_cast<T>(0.1 * i - 0.3);
  }
  void set_grads(int step) {
    for (size_t i = 0; i < grad_conv_w.size(); ++i) {
      grad_conv_w[i] = static_cast<T>(std::cos(0.11 * i + 0.7 * step) * (1 + 0.5 * step));
    }
    for (size_t i = 0; i < grad_bn_b.size(); ++i) grad_bn_b[i] = static_cast<T>(0.01 * (i + step) - 0.02);
  }
  std::vector<ParamRef<T>> refs() {
    return {{"conv.weight", conv_w.data(), grad_conv_w.data(), static_cast<int64_t>(conv_w.size()), true},
            {"bn.bias", bn_b.data(), grad_bn_b.data(), static_cast<int64_t>(bn_b.size()), false}};
  }
};

double lr_for(int step) { return 0.05 / (1 + step); }

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <typename T>
void check_round_trip(const OptimizerConfig& cfg) {
  constexpr int kSteps = 5, kStop = 2;
  Model<T> whole(1000);
  Optimizer<T> opt_whole(cfg, whole.refs());
  for (int s = 0; s < kSteps; ++s) {
    whole.set_grads(s);
    opt_whole.step(lr_for(s));
  }

  Model<T> first(1000);
  std::map<std::string, std::vector<T>> saved;
  int64_t saved_count = 0;
  {
    Optimizer<T> opt(cfg, first.refs());
    for (int s = 0; s < kStop; ++s) {
      first.set_grads(s);
      opt.step(lr_for(s));
    }
    for (const auto& [name, span] : opt.state()) saved[name] = {span.begin(), span.end()};
    saved_count = opt.step_count();
  }
  Model<T> resumed(1000);  // fresh state, then the saved weights
  resumed.conv_w = first.conv_w;
  resumed.bn_b = first.bn_b;
  Optimizer<T> opt(cfg, resumed.refs());
  auto state = opt.state();
  ASSERT_EQ(state.size(), saved.size());
  for (auto& [name, span] : state) {
    const auto& src = saved.at(name);
    ASSERT_EQ(span.size(), src.size()) << name;
    std::copy(src.begin(), src.end(), span.begin());
  }
  opt.set_step_count(saved_count);
  for (int s = kStop; s < kSteps; ++s) {
    resumed.set_grads(s);
    opt.step(lr_for(s));
  }
  EXPECT_EQ(opt.step_count(), kSteps);
  EXPECT_TRUE(same_bits(resumed.conv_w, whole.conv_w));
  EXPECT_TRUE(same_bits(resumed.bn_b, whole.bn_b));
  const auto a = opt.state();
  const auto b = opt_whole.state();
  for (const auto& [name, span] : b) {
    std::vector<T> x(span.begin(), span.end()), y(a.at(name).begin(), a.at(name).end());
    EXPECT_TRUE(same_bits(x, y)) << name;
  }
  // The test would notice a lost state: restarting from zero state gives other bits.
  Model<T> naive(1000);
  naive.conv_w = first.conv_w;
  naive.bn_b = first.bn_b;
  Optimizer<T> opt_naive(cfg, naive.refs());
  for (int s = kStop; s < kSteps; ++s) {
    naive.set_grads(s);
    opt_naive.step(lr_for(s));
  }
  EXPECT_FALSE(same_bits(naive.conv_w, whole.conv_w));
}

OptimizerConfig make(OptimizerConfig::Kind kind, double momentum, bool nesterov, double wd) {
  OptimizerConfig c;
  c.kind = kind;
  c.momentum = momentum;
  c.nesterov = nesterov;
  c.weight_decay = wd;
  return c;
}

TEST(OptimizerStateTest, SgdMomentumRoundTrip) {
  check_round_trip<float>(make(OptimizerConfig::Kind::Sgd, 0.9, false, 1e-4));
  check_round_trip<double>(make(OptimizerConfig::Kind::Sgd, 0.9, false, 1e-4));
}

TEST(OptimizerStateTest, SgdNesterovRoundTrip) {
  check_round_trip<float>(make(OptimizerConfig::Kind::Sgd, 0.9, true, 1e-4));
}

TEST(OptimizerStateTest, AdamWRoundTrip) {
  check_round_trip<float>(make(OptimizerConfig::Kind::AdamW, 0.9, false, 0.05));
  check_round_trip<double>(make(OptimizerConfig::Kind::AdamW, 0.9, false, 0.05));
}

TEST(OptimizerStateTest, StateNamesAndSizes) {
  Model<float> m(10);
  Optimizer<float> opt(make(OptimizerConfig::Kind::AdamW, 0.9, false, 0), m.refs());
  std::vector<std::string> names;
  for (const auto& [name, span] : opt.state()) {
    names.push_back(name);
    EXPECT_EQ(span.size(), name.starts_with("conv") ? 10u : 7u) << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"bn.bias.exp_avg", "bn.bias.exp_avg_sq", "conv.weight.exp_avg",
                                             "conv.weight.exp_avg_sq"}));
  EXPECT_EQ(opt.step_count(), 0);
  EXPECT_THROW(opt.set_step_count(-1), UserError);
}

// Large enough to be cut into many chunks and run on several threads.
TEST(OptimizerStateTest, BitsDoNotDependOnThreadCount) {
  for (auto kind : {OptimizerConfig::Kind::Sgd, OptimizerConfig::Kind::AdamW}) {
    const OptimizerConfig cfg = make(kind, 0.9, kind == OptimizerConfig::Kind::Sgd, 0.01);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      const int before = omp_get_max_threads();
      omp_set_num_threads(threads);
      Model<float> m(200003);
      Optimizer<float> opt(cfg, m.refs());
      for (int s = 0; s < 3; ++s) {
        m.set_grads(s);
        opt.step(lr_for(s));
      }
      omp_set_num_threads(before);
      results.push_back(m.conv_w);
    }
    EXPECT_TRUE(same_bits(results[0], results[1]));
    EXPECT_TRUE(same_bits(results[0], results[2]));
  }
}

TEST(OptimizerConfigTest, Validation) {
  using K = OptimizerConfig::Kind;
  auto bad = [](OptimizerConfig c) { return [c] { validate_optimizer_config(c); }; };
  testkit::expect_user_error_naming(bad(make(K::Sgd, -0.1, false, 0)), "--momentum");
  testkit::expect_user_error_naming(bad(make(K::Sgd, NAN, false, 0)), "--momentum");
  testkit::expect_user_error_naming(bad(make(K::Sgd, 0, true, 0)), "--nesterov");
  testkit::expect_user_error_naming(bad(make(K::AdamW, 0.9, true, 0)), "--nesterov");
  testkit::expect_user_error_naming(bad(make(K::Sgd, 0.9, false, -1e-4)), "--weight-decay");
  testkit::expect_user_error_naming(bad(make(K::AdamW, 0.9, false, -1e-4)), "--weight-decay");
  OptimizerConfig c = make(K::AdamW, 0.9, false, 0);
  c.beta1 = 1;
  testkit::expect_user_error_naming(bad(c), "--beta1");
  c.beta1 = -0.1;
  testkit::expect_user_error_naming(bad(c), "--beta1");
  c.beta1 = 0.9;
  c.beta2 = 1.5;
  testkit::expect_user_error_naming(bad(c), "--beta2");
  c.beta2 = 0.999;
  c.eps = -1;
  testkit::expect_user_error_naming(bad(c), "--eps");
  c.eps = 1e-8;
  EXPECT_NO_THROW(validate_optimizer_config(c));
  EXPECT_NO_THROW(validate_optimizer_config(make(K::Sgd, 0, false, 0)));
  EXPECT_NO_THROW(validate_optimizer_config(make(K::Sgd, 0.9, true, 5e-4)));

  // The constructor validates too, and step() checks the learning rate.
  std::vector<float> p(3), g(3);
  testkit::expect_user_error_naming([&] { Optimizer<float>(make(K::Sgd, -1, false, 0), {{"p", p.data(), g.data(), 3, true}}); },
                    "--momentum");
  Optimizer<float> opt(make(K::Sgd, 0.9, false, 0), {{"p", p.data(), g.data(), 3, true}});
  testkit::expect_user_error_naming([&] { opt.step(-0.1); }, "--lr");
  testkit::expect_user_error_naming([&] { opt.step(NAN); }, "--lr");
  EXPECT_EQ(opt.step_count(), 0);

  // A duplicate name is the caller's bug, not the user's.
  EXPECT_THROW(Optimizer<float>(make(K::Sgd, 0.9, false, 0),
                                {{"p", p.data(), g.data(), 3, true}, {"p", p.data(), g.data(), 3, true}}),
               InternalError);
}

TEST(OptimizerConfigTest, ParseKind) {
  EXPECT_EQ(parse_optimizer_kind("sgd"), OptimizerConfig::Kind::Sgd);
  EXPECT_EQ(parse_optimizer_kind("adamw"), OptimizerConfig::Kind::AdamW);
  EXPECT_STREQ(optimizer_kind_name(OptimizerConfig::Kind::AdamW), "adamw");
  try {
    parse_optimizer_kind("adam");
    ADD_FAILURE() << "no UserError";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "--optimizer: expected sgd or adamw, got 'adam'");
  }
}

}  // namespace
}  // namespace thaw
