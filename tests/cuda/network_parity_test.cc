// The whole Inception v4 on the GPU (engine/gpu/cuda_executor.h) against the CPU executor: forward and
// backward at 299, batch 2, 10 classes, from the same state, frozen through nothing and through
// mixed_6a (and at 75 through nothing), batch norm in training mode. The logits, the loss, every
// trainable gradient, every running statistic, and num_batches_tracked are checked element by
// element against the CPU's double run, with the CPU's own float-vs-double spread as the measure
// (network_spread in tolerance.h); the trainable max-pool choices and ReLU masks are compared with
// the double run's, each difference must be a near-tie, and the gradients upstream of one fall
// back to the coarse rule (network_after_flip). Then determinism: three training steps twice give
// the same bits.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/philox.h"
#include "engine/gpu/cuda_executor.h"
#include "engine/gpu/cuda_optimizer.h"
#include "engine/model/executor.h"
#include "engine/data/synthetic.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/cuda/sgd_steps.h"

namespace thaw::cuda_test {
namespace {

constexpr int64_t kSize = 299, kBatch = 2, kClasses = 10;

using NetworkParityTest = CudaTest;

// The seeded initialisation, with every trainable batch norm's beta at +5 or -5 per channel: in
// training mode its output is beta plus a unit-variance term, so the ReLU after it passes or blocks
// each channel with a margin of about 5 standard deviations. No rounding difference then flips a
// mask (which would move a gradient by a whole term and swamp the rounding being measured), yet the
// masks still differ from channel to channel. Frozen blocks keep the plain initialisation.
ModelState<float> test_state(const Graph& g, const Plan& plan) {
  ModelState<float> s = ModelState<float>::random(g, 7);
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].role != TensorRole::BnBias || !plan.trainable[g.tensors[t].node]) continue;
    const CounterRng rng(5, RngPurpose::Synthetic, 2, static_cast<uint32_t>(t));
    Tensor<float>& v = s.values[t];
    for (int64_t i = 0; i < v.numel(); ++i) v[i] = (rng.u32_at(static_cast<uint64_t>(i)) & 1) ? 5.0f : -5.0f;
  }
  return s;
}

// What one forward + loss + backward leaves, in double whatever ran it.
struct StepResult {
  std::vector<double> logits;
  double loss = 0;
  std::vector<std::vector<double>> grads;  // per Graph::tensors entry; empty unless trainable
  ModelState<double> state;                // after the forward (running statistics moved)
};

template <typename T>
std::vector<double> widen(const T* p, int64_t n) {
  return std::vector<double>(p, p + n);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The CPU executor's step, split so that its forward can be inspected before its backward.
template <typename T>
class CpuStep {
 public:
  CpuStep(const Graph& g, const Plan& plan, const ModelState<float>& init)
      : g_(g), plan_(plan), state_(init.cast<T>()), exec_(g, plan, state_) {}
  const Executor<T>& executor() const { return exec_; }
  void forward(const Tensor<float>& x) {
    Tensor<T> xt(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) xt[i] = static_cast<T>(x[i]);
    const Tensor<T>& logits = exec_.forward(xt, Phase::Train, {1, 0, 0});
    r_.logits = widen(logits.data(), logits.numel());
  }
  StepResult finish(const std::vector<int32_t>& labels) {
    const Tensor<T>& logits = exec_.output(g_.output_node());
    Tensor<T> dlogits(logits.shape());
    r_.loss = cpu::softmax_cross_entropy<T>(logits.dim(0), logits.dim(1), logits.data(), labels.data(), 0.0, nullptr,
                                            dlogits.data());
    exec_.backward(dlogits);
    r_.grads.resize(g_.tensors.size());
    for (int t : plan_.trainable_tensors) r_.grads[t] = widen(exec_.grads()[t].data(), exec_.grads()[t].numel());
    r_.state = state_.template cast<double>();
    return r_;
  }

 private:
  const Graph& g_;
  const Plan& plan_;
  ModelState<T> state_;
  Executor<T> exec_;
  StepResult r_;
};

StepResult finish_gpu(CudaExecutor& exec, const Graph& g, const Plan& plan, const int32_t* d_labels) {
  StepResult r;
  const std::vector<float> logits = exec.logits_to_host();
  r.logits.assign(logits.begin(), logits.end());
  r.loss = exec.loss(d_labels);
  exec.backward();
  r.grads.resize(g.tensors.size());
  for (int tn : plan.trainable_tensors) {
    const std::vector<float> gr = exec.grad_to_host(tn);
    r.grads[tn].assign(gr.begin(), gr.end());
  }
  ModelState<float> after = ModelState<float>::zeros(g);
  exec.download(after);
  r.state = after.cast<double>();
  return r;
}

// The discrete choices of the trainable part: each max pool's argmax and each ReLU's mask, on the
// GPU against the double run. A difference must be a near-tie (else it is a bug and fails); the
// gradients of the nodes before the last one with a difference are then checked with the coarse
// rule (network_after_flip in tolerance.h).
struct Choices {
  int64_t maxpool_flips = 0, relu_flips = 0;
  int frontier = 0;  // nodes below this index are upstream of a flip
  std::string where;
};

constexpr double kNearTie = 1e-4;  // relative: float vs double differ by ~1e-6 here

// `argmax_of(node)` and `output_of(node)` read the GPU's choices and ReLU outputs after its forward.
template <typename ArgmaxOf, typename OutputOf>
Choices compare_choices(const ArgmaxOf& argmax_of, const OutputOf& output_of, const Executor<double>& cpu,
                        const Graph& g, const Plan& plan, int64_t batch) {
  Choices c;
  auto record = [&](int node, int64_t flips) {
    if (flips == 0) return;
    c.frontier = std::max(c.frontier, node);
    c.where += " " + g.nodes[node].name + " (" + std::to_string(flips) + ")";
  };
  for (size_t i = 1; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const int node = static_cast<int>(i);
    if (!plan.trainable[i]) continue;
    if (n.kind == OpKind::MaxPool) {
      const Tensor<double>& x = cpu.output(n.inputs[0]);
      const Shape& in = g.nodes[n.inputs[0]].out;
      if (x.numel() != batch * shape_numel(in)) {
        ADD_FAILURE() << "the CPU no longer holds the input of " << n.name << "; its choices are unchecked";
        record(node, 1);
        continue;
      }
      const std::vector<int32_t> got = argmax_of(node);
      const int64_t h = in[1], w = in[2], ho = n.out[1], wo = n.out[2];
      int64_t flips = 0, bad = 0;
      for (int64_t p = 0; p < batch * in[0]; ++p) {
        const double* plane = x.data() + p * h * w;
        for (int64_t oy = 0; oy < ho; ++oy) {
          for (int64_t ox = 0; ox < wo; ++ox) {
            // The documented rule: rows in order, first maximum wins, padded cells never win.
            int64_t best = -1;
            for (int64_t ky = 0; ky < n.kh; ++ky) {
              for (int64_t kx = 0; kx < n.kw; ++kx) {
                const int64_t yy = oy * n.sh - n.ph + ky, xx = ox * n.sw - n.pw + kx;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                if (best < 0 || plane[yy * w + xx] > plane[best]) best = yy * w + xx;
              }
            }
            const int64_t chosen = got[static_cast<size_t>((p * ho + oy) * wo + ox)];
            if (chosen == best) continue;
            ++flips;
            const int64_t cy = chosen / w, cx = chosen % w;
            const bool in_window = chosen >= 0 && chosen < h * w && cy >= oy * n.sh - n.ph &&
                                   cy < oy * n.sh - n.ph + n.kh && cx >= ox * n.sw - n.pw &&
                                   cx < ox * n.sw - n.pw + n.kw;
            if (!in_window || plane[chosen] < plane[best] - kNearTie * std::max(1.0, std::fabs(plane[best]))) {
              if (bad++ < 5) {
                ADD_FAILURE() << n.name << " plane " << p << " output (" << oy << ", " << ox << "): the GPU chose "
                              << chosen << (in_window ? "" : " (outside the window)") << ", double chose " << best
                              << " (" << plane[best] << "): not a near-tie";
              }
            }
          }
        }
      }
      record(node, flips);
      c.maxpool_flips += flips;
    } else if (n.kind == OpKind::Relu) {
      const Tensor<double>& y = cpu.output(node);
      const std::vector<float> got = output_of(node);
      if (static_cast<int64_t>(got.size()) != y.numel()) {
        ADD_FAILURE() << n.name << ": gpu output of " << got.size() << " values, cpu " << y.numel();
        record(node, 1);
        continue;
      }
      double scale = 0;
      for (int64_t e = 0; e < y.numel(); ++e) scale = std::max(scale, std::fabs(y[e]));
      int64_t flips = 0, bad = 0;
      for (int64_t e = 0; e < y.numel(); ++e) {
        if ((got[e] > 0) == (y[e] > 0)) continue;
        ++flips;
        if (std::max<double>(got[e], y[e]) > kNearTie * std::max(1.0, scale) && bad++ < 5) {
          ADD_FAILURE() << n.name << " [" << e << "]: gpu " << got[e] << ", double " << y[e]
                        << ": a ReLU mask differs away from zero";
        }
      }
      record(node, flips);
      c.relu_flips += flips;
    }
  }
  return c;
}

std::vector<float> narrow(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

double max_abs_of(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// gpu against cpu_double, allowed network_spread (or network_after_flip) of cpu_float's distance.
::testing::AssertionResult matches(const std::string& what, const std::vector<double>& gpu,
                                   const std::vector<double>& cpu_float, const std::vector<double>& cpu_double,
                                   bool after_flip = false) {
  if (gpu.size() != cpu_double.size() || cpu_float.size() != cpu_double.size()) {
    return ::testing::AssertionFailure() << what << ": gpu " << gpu.size() << ", cpu float " << cpu_float.size()
                                         << ", cpu double " << cpu_double.size() << " elements";
  }
  const double spread = max_abs_diff(cpu_float, cpu_double), scale = max_abs_of(cpu_double);
  const Tolerance tol = after_flip ? network_after_flip(spread, scale) : network_spread(spread, scale);
  return all_close(what, narrow(gpu), narrow(cpu_double), tol);
}

// Everything the step produced, GPU against the double run, with the spread of the float run.
void compare_results(const std::string& tag, const Graph& g, const Plan& plan, const Choices& choices,
                     const StepResult& gpu, const StepResult& f32, const StepResult& f64) {
  EXPECT_TRUE(matches(tag + "logits", gpu.logits, f32.logits, f64.logits));
  EXPECT_TRUE(matches(tag + "loss", {gpu.loss}, {f32.loss}, {f64.loss}));
  ASSERT_TRUE(std::isfinite(gpu.loss));

  int strict = 0, coarse = 0, failed = 0;
  for (int tn : plan.trainable_tensors) {
    const bool after_flip = g.tensors[tn].node < choices.frontier;
    const bool ok = matches(tag + "grad " + g.tensors[tn].name, gpu.grads[tn], f32.grads[tn], f64.grads[tn], after_flip);
    EXPECT_TRUE(ok) << "gradient of " << g.tensors[tn].name;
    (after_flip ? coarse : strict) += 1;
    failed += !ok;
  }
  // Running statistics (moved by the trainable batch norms, untouched elsewhere; the forward has no
  // discrete jumps, so always the strict rule) and the counters.
  for (size_t tn = 0; tn < g.tensors.size(); ++tn) {
    const TensorRole role = g.tensors[tn].role;
    if (role == TensorRole::NumBatchesTracked) {
      EXPECT_EQ(gpu.state.batches_tracked[tn], f64.state.batches_tracked[tn]) << g.tensors[tn].name;
      continue;
    }
    if (role != TensorRole::RunningMean && role != TensorRole::RunningVar) continue;
    const auto values = [&](const StepResult& r) {
      return std::vector<double>(r.state.values[tn].data(), r.state.values[tn].data() + r.state.values[tn].numel());
    };
    EXPECT_TRUE(matches(tag + g.tensors[tn].name, values(gpu), values(f32), values(f64)));
  }
  std::printf("[network] %s%d trainable gradients checked (%d strict, %d coarse after a near-tie), %d outside the "
              "tolerance\n",
              tag.c_str(), strict + coarse, strict, coarse, failed);
}

void check_network(NetworkParityTest& t, int64_t size, const std::string& freeze) {
  const Graph g = build_inception_v4(size, kClasses);
  const Plan plan = make_plan(g, g.find_block(freeze), BnPolicy::Train);
  const ModelState<float> init = test_state(g, plan);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(3, 0, kBatch, size, kClasses, x, labels);
  const std::string tag = "network " + std::to_string(size) + " frozen through " + freeze + ": ";

  auto t0 = std::chrono::steady_clock::now();
  CudaExecutor gpu_exec(t.ctx(), g, plan, init);
  gpu_exec.set_fold_frozen(false);  // op by op, as the CPU executor (folding: tests/cuda/fold_bn_test.cc)
  auto d_x = t.to_device(std::vector<float>(x.data(), x.data() + x.numel()));
  auto d_labels = t.to_device(labels);
  gpu_exec.forward(d_x.data(), kBatch, Phase::Train, {1, 0, 0});
  t.ctx().synchronize("network forward");
  std::printf("[network] %sgpu forward (plans built on first use): %.1f s; step arena %.1f MiB\n", tag.c_str(),
              seconds_since(t0), static_cast<double>(gpu_exec.arena_bytes()) / 1048576.0);

  t0 = std::chrono::steady_clock::now();
  CpuStep<double> f64_step(g, plan, init);
  f64_step.forward(x);
  std::printf("[network] %scpu double forward: %.1f s\n", tag.c_str(), seconds_since(t0));
  const Choices choices = compare_choices([&](int node) { return gpu_exec.argmax_to_host(node); },
                                          [&](int node) { return gpu_exec.output_to_host(node); },
                                          f64_step.executor(), g, plan, kBatch);
  std::printf("[network] %s%lld max-pool choices and %lld ReLU mask elements differ from double (each a near-tie "
              "unless reported);%s%s\n",
              tag.c_str(), static_cast<long long>(choices.maxpool_flips), static_cast<long long>(choices.relu_flips),
              choices.where.empty() ? " all gradients under the strict rule" : " at",
              choices.where.empty() ? ""
                                    : (choices.where + "; gradients of the nodes before " +
                                       g.nodes[choices.frontier].name + " under the coarse rule")
                                          .c_str());

  t0 = std::chrono::steady_clock::now();
  const StepResult gpu = finish_gpu(gpu_exec, g, plan, d_labels.data());
  std::printf("[network] %sgpu loss and backward: %.1f s\n", tag.c_str(), seconds_since(t0));
  t0 = std::chrono::steady_clock::now();
  const StepResult f64 = f64_step.finish(labels);
  std::printf("[network] %scpu double loss and backward: %.1f s\n", tag.c_str(), seconds_since(t0));
  t0 = std::chrono::steady_clock::now();
  CpuStep<float> f32_step(g, plan, init);
  f32_step.forward(x);
  const StepResult f32 = f32_step.finish(labels);
  std::printf("[network] %scpu float step: %.1f s\n", tag.c_str(), seconds_since(t0));

  compare_results(tag, g, plan, choices, gpu, f32, f64);
}

TEST_F(NetworkParityTest, WholeNetworkTrainsLikeTheCpuFrozenThroughNothing) { check_network(*this, kSize, "none"); }

TEST_F(NetworkParityTest, WholeNetworkTrainsLikeTheCpuFrozenThroughMixed6a) {
  check_network(*this, kSize, "mixed_6a");
}

// The smallest input has ~40 times fewer max-pool windows, so near-ties are rare and the whole
// backward is nearly always under the strict rule.
TEST_F(NetworkParityTest, WholeNetworkTrainsLikeTheCpuAt75FrozenThroughNothing) { check_network(*this, 75, "none"); }

// Three SGD steps (momentum, weight decay) on three synthetic batches, from a fresh executor each
// time; every value of the state after them, and every loss, must be the same bits.
TEST_F(NetworkParityTest, ThreeTrainingStepsTwiceGiveTheSameBits) {
  const Graph g = build_inception_v4(kSize, kClasses);
  const Plan plan = make_plan(g, -1, BnPolicy::Train);
  // The plain initialisation (betas 0): every beta then gets a gradient and moves.
  const ModelState<float> init = ModelState<float>::random(g, 7);
  OptimizerConfig oc;
  oc.momentum = 0.9;
  oc.weight_decay = 1e-4;
  auto train = [&](std::vector<double>& losses) {
    return three_sgd_steps(ctx(), g, plan, init, oc, kBatch, kSize, kClasses, losses);
  };
  std::vector<double> loss_a, loss_b;
  const ModelState<float> a = train(loss_a);
  const ModelState<float> b = train(loss_b);
  ASSERT_EQ(loss_a.size(), 3u);
  for (size_t s = 0; s < loss_a.size(); ++s) {
    EXPECT_TRUE(std::isfinite(loss_a[s])) << "step " << s;
    EXPECT_EQ(std::memcmp(&loss_a[s], &loss_b[s], sizeof(double)), 0)
        << "loss of step " << s << ": " << loss_a[s] << " vs " << loss_b[s];
  }
  size_t moved = 0, differ = 0;
  for (size_t tn = 0; tn < g.tensors.size(); ++tn) {
    const Tensor<float>& va = a.values[tn];
    const Tensor<float>& vb = b.values[tn];
    if (va.numel() == 0) continue;
    const std::vector<float> sa(va.data(), va.data() + va.numel()), sb(vb.data(), vb.data() + vb.numel());
    const ::testing::AssertionResult same = same_bits("3 steps twice: " + g.tensors[tn].name, sa, sb);
    if (!same) {
      ++differ;
      ADD_FAILURE() << same.message();
    }
    const Tensor<float>& v0 = init.values[tn];
    if (std::memcmp(va.data(), v0.data(), sizeof(float) * static_cast<size_t>(va.numel())) != 0) ++moved;
  }
  EXPECT_EQ(a.batches_tracked, b.batches_tracked);
  // Not vacuous: the steps moved every parameter and running statistic tensor (betas included).
  size_t movable = 0;
  for (const TensorSpec& s : g.tensors) movable += s.role != TensorRole::NumBatchesTracked;
  std::printf("[determinism] network, 3 SGD steps twice: %zu of %zu tensors moved, %zu differ between runs\n", moved,
              movable, differ);
  EXPECT_EQ(moved, movable);
}

}  // namespace
}  // namespace thaw::cuda_test
