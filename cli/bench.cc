#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <omp.h>
#include <nlohmann/json.hpp>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "core/error.h"
#include "engine/gpu/cuda_device.h"
#include "engine/train/cuda_bench.h"
#include "engine/model/executor.h"
#include "engine/model/step_profile.h"
#include "engine/optim/param_refs.h"
#include "engine/optim/optimizer.h"
#include "engine/data/synthetic.h"
#include "engine/gpu/op_fusions.h"
#include "engine/model/mixed_precision.h"
#include "engine/run/train_options.h"
#include "graph/network.h"
#include "kernels/cpu/loss.h"

namespace thaw::cli {

namespace {

struct BenchArgs {
  std::string device = "cpu";
  std::string precision = "fp32";
  bool emulate_bf16 = false;
  std::string arch = "inception_v4";
  int64_t batch_size = 8;
  int64_t input_size = 299;
  int64_t classes = 1000;
  std::string freeze_through = "none";
  int64_t steps = 3;
  int64_t warmup = 1;
  int threads = 0;
  bool json = false;
  bool profile = false;
  std::string channels_last = "off";  // engine/gpu/op_fusions.h ChannelsLast
  bool fuse_epilogue = false;
  bool cuda_graph = false;
};

// Peak resident memory of this process, from the kernel's high-water mark.
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmHWM:") {
      double kib = 0;
      f >> kib;
      return kib / 1024.0;
    }
    f.ignore(4096, '\n');
  }
  return -1;
}

// Model FLOPs per image: 2 x MACs forward everywhere, 2 x 2 x MACs more for the trainable part's backward.
double model_flops_per_image(const Graph& g, const Plan& plan) {
  int64_t trainable_macs = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (plan.trainable[i]) trainable_macs += g.node_macs(static_cast<int>(i));
  }
  return 2.0 * static_cast<double>(g.macs()) + 4.0 * static_cast<double>(trainable_macs);
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

void run_bench_cuda(const BenchArgs& a, const Graph& g, const Plan& plan) {
  require_cuda_device();
  StepProfile profile(g);
  const CudaBenchResult r =
      cuda_bench(g, plan, a.batch_size, a.steps, a.warmup, parse_numerics(a.precision), a.profile ? &profile : nullptr,
                 CudaBenchLayout{parse_channels_last(a.channels_last, "--channels-last"), a.fuse_epilogue,
                                 a.cuda_graph});
  const double ips = static_cast<double>(a.batch_size) / (r.step_ms / 1000.0);
  const double flops = model_flops_per_image(g, plan);
  nlohmann::json j = {{"device", "cuda"},
                      {"gpu", r.gpu_name},
                      {"gpu_detail", r.gpu},
                      {"libraries", r.libraries},
                      {"precision", a.precision},
                      {"layout", r.layout},
                      {"channels_last_end", r.channels_last_end},
                      {"epilogue", a.fuse_epilogue ? "fused where an engine takes it" : "kernel"},
                      {"folded_groups", r.folded_groups},
                      {"fused_groups", r.fused_groups},
                      {"unfused_problems", r.unfused},
                      {"cuda_graph", a.cuda_graph},
                      {"captured_graphs", r.captured_graphs},
                      {"batch_size", a.batch_size},
                      {"input_size", a.input_size},
                      {"classes", a.classes},
                      {"freeze_through", a.freeze_through},
                      {"steps", a.steps},
                      {"warmup", a.warmup},
                      {"data", "one synthetic batch, uploaded at every step, staged during the step before"},
                      {"timing", "CUDA events around the timed steps (forward, loss, backward, SGD)"},
                      {"step_ms", r.step_ms},
                      {"wall_step_ms", r.wall_step_ms},
                      {"step_ms_each", r.step_ms_each},
                      {"images_per_s", ips},
                      {"model_tflops_per_s", ips * flops / 1e12},
                      {"model_gflops_per_s", ips * flops / 1e9},
                      {"trainable_params", plan.trainable_parameter_count(g)},
                      {"first_loss", r.first_loss},
                      {"last_loss", r.last_loss},
                      {"arena_gib", static_cast<double>(r.arena_bytes) / kGiB},
                      {"state_gib", static_cast<double>(r.state_bytes) / kGiB},
                      {"peak_gpu_mem_gib", static_cast<double>(r.allocated_bytes) / kGiB},
                      {"device_used_gib", static_cast<double>(r.device_used_bytes) / kGiB}};
  if (!std::isfinite(r.last_loss)) std::fprintf(stderr, "thaw bench: warning: the loss is not finite (%g)\n", r.last_loss);
  if (a.profile) j["profile"] = profile.to_json();
  if (a.json) {
    std::cout << j.dump() << "\n";
    return;
  }
  if (a.profile) profile.write_report(std::cout);
  for (size_t s = 0; s < r.step_ms_each.size(); ++s) {
    std::fprintf(stderr, "step %zu: %.1f ms%s\n", s, r.step_ms_each[s], static_cast<int64_t>(s) < a.warmup ? " (warm-up)" : "");
  }
  std::printf("cuda %s %s%s, batch %lld at %lld, frozen through %s: %.1f images/s, %.1f ms/step, %.2f model "
              "TFLOP/s, %.2f GiB allocated (arena %.2f GiB), loss %.4f -> %.4f\n",
              r.gpu_name.c_str(), a.precision.c_str(), r.layout == "nchw" ? "" : (" " + r.layout).c_str(),
              static_cast<long long>(a.batch_size), static_cast<long long>(a.input_size),
              a.freeze_through.c_str(), ips, r.step_ms, ips * flops / 1e12,
              static_cast<double>(r.allocated_bytes) / kGiB, static_cast<double>(r.arena_bytes) / kGiB, r.first_loss,
              r.last_loss);
  if (a.cuda_graph) std::printf("cuda graph: %d step(s) captured, launched whole\n", r.captured_graphs);
  if (a.fuse_epilogue) {
    std::printf("fused epilogue: %d of %d folded groups ran as one cuDNN graph\n", r.fused_groups, r.folded_groups);
    for (const std::string& line : r.unfused) std::printf("  apart: %s\n", line.c_str());
  }
}

void run_bench_cpu(const BenchArgs& a, const Graph& g, const Plan& plan);

void run_bench(const BenchArgs& a) {
  if (a.device != "cpu" && a.device != "cuda") fail_user("--device: expected cpu or cuda, got '", a.device, "'");
  check_precision(a.precision, a.emulate_bf16, a.device);
  if (parse_channels_last(a.channels_last, "--channels-last") != ChannelsLast::off && a.device != "cuda") {
    fail_user("--channels-last: only with --device cuda");
  }
  if (a.fuse_epilogue && a.device != "cuda") fail_user("--fuse-epilogue: only with --device cuda");
  if (a.cuda_graph && a.device != "cuda") fail_user("--cuda-graph: only with --device cuda");
  if (a.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", a.batch_size);
  if (a.steps < 1) fail_user("--steps: expected at least 1, got ", a.steps);
  if (a.warmup < 0) fail_user("--warmup: expected 0 or more, got ", a.warmup);
  check_threads(a.threads);
  const Graph g = build_network(a.arch, a.input_size, a.classes);
  const Plan plan = make_plan(g, g.find_block(a.freeze_through), BnPolicy::Train);
  if (a.device == "cuda") return run_bench_cuda(a, g, plan);
  run_bench_cpu(a, g, plan);
}

void run_bench_cpu(const BenchArgs& a, const Graph& g, const Plan& plan) {
  ModelState<float> state = ModelState<float>::random(g, 0);
  Executor<float> exec(g, plan, state);
  exec.set_bf16(a.emulate_bf16);
  const std::vector<ParamRef<float>> refs = trainable_param_refs(g, plan, state, exec);
  OptimizerConfig oc;
  Optimizer<float> opt(oc, refs);
  Tensor<float> x, dlogits;
  std::vector<int32_t> labels;
  double seconds = 0;
  StepProfile profile(g);
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
  for (int64_t s = 0; s < a.warmup + a.steps; ++s) {
    synthetic_batch(1, s, a.batch_size, a.input_size, a.classes, x, labels);
    const bool profiled = a.profile && s >= a.warmup;
    exec.set_profile(profiled ? &profile : nullptr);
    const auto t0 = Clock::now();
    const Tensor<float>& logits = exec.forward(x, Phase::Train, {0, s, 0});
    dlogits.reshape_uninit(logits.shape());
    const auto t_loss = Clock::now();
    cpu::softmax_cross_entropy<float>(a.batch_size, a.classes, logits.data(), labels.data(), 0.0, nullptr,
                                      dlogits.data());
    if (profiled) profile.add_other("loss", ms_since(t_loss));
    exec.backward(dlogits);
    const auto t_opt = Clock::now();
    opt.step(1e-3);
    if (profiled) {
      profile.add_other("optimizer", ms_since(t_opt));
      profile.end_step();
    }
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s >= a.warmup) seconds += dt;
    if (!a.json) std::fprintf(stderr, "step %lld: %.3f s\n", static_cast<long long>(s), dt);
  }
  const double flops_per_image = model_flops_per_image(g, plan);
  const double ips = static_cast<double>(a.steps * a.batch_size) / seconds;
  nlohmann::json j = {{"device", "cpu"},
                      {"precision", a.emulate_bf16 ? "bf16-emulated" : "fp32"},
                      {"arch", g.arch},
                      {"threads", omp_get_max_threads()},
                      {"batch_size", a.batch_size},
                      {"input_size", a.input_size},
                      {"freeze_through", a.freeze_through},
                      {"steps", a.steps},
                      {"step_ms", 1000.0 * seconds / static_cast<double>(a.steps)},
                      {"images_per_s", ips},
                      {"model_gflops_per_s", ips * flops_per_image / 1e9},
                      {"trainable_params", plan.trainable_parameter_count(g)},
                      {"kept_activation_mib", static_cast<double>(plan.kept_bytes_per_sample(g, 4) * a.batch_size) / (1 << 20)},
                      {"peak_rss_mib", peak_rss_mib()}};
  if (a.profile) j["profile"] = profile.to_json();
  if (a.profile && !a.json) profile.write_report(std::cout);
  if (a.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf("cpu x%d threads, batch %lld at %lld, frozen through %s: %.2f images/s, %.1f ms/step, "
                "%.1f model GFLOP/s, peak RSS %.0f MiB\n",
                omp_get_max_threads(), static_cast<long long>(a.batch_size), static_cast<long long>(a.input_size),
                a.freeze_through.c_str(), ips, j["step_ms"].get<double>(), j["model_gflops_per_s"].get<double>(),
                j["peak_rss_mib"].get<double>());
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Time training steps on synthetic data (images/s, peak memory)");
  sub->add_option("--device", a->device, "cpu or cuda")->capture_default_str();
  sub->add_option("--arch", a->arch, "inception_v4 or inception_v3")->capture_default_str();
  sub->add_option("--precision", a->precision,
                  "fp32; tf32 (--device cuda: TF32 tensor cores in convolutions and matrix products); bf16 (on "
                  "the CPU with --emulate-bf16)")
      ->capture_default_str();
  sub->add_flag("--emulate-bf16", a->emulate_bf16,
                "With --precision bf16 on the CPU: the GPU's bf16 rounding emulated in fp32 arithmetic");
  sub->add_option("--batch-size", a->batch_size, "Images per step")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--input-size", a->input_size, "Input height and width (>= 75)")->capture_default_str()->check(in_range(input_size_range()));
  sub->add_option("--classes", a->classes, "Number of output classes")->capture_default_str()->check(in_range(whole(1, kMaxClasses)));
  sub->add_option("--freeze-through", a->freeze_through, "Freeze this block and all before it")->capture_default_str();
  sub->add_option("--steps", a->steps, "Timed steps")->capture_default_str()->check(in_range(whole(1, 1000000)));
  sub->add_option("--warmup", a->warmup, "Untimed steps first")->capture_default_str()->check(in_range(whole(0, 1000000)));
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str()->check(in_range(threads_range()));
  sub->add_flag("--channels-last{front}", a->channels_last,
                "With --device cuda: activations stored NHWC for cuDNN's tensor-core engines: --channels-last "
                "(or =front) the frozen front (folded groups, pools, concatenations), --channels-last=all every "
                "activation and gradient; not yet measured on a GPU");
  sub->add_flag("--fuse-epilogue", a->fuse_epilogue,
                "With --device cuda: each frozen folded convolution, its bias and ReLU as one cuDNN graph where "
                "an engine takes it; not yet measured on a GPU");
  sub->add_flag("--cuda-graph", a->cuda_graph,
                "With --device cuda: each step after the first launched as one captured CUDA graph (forward, loss, "
                "backward, update); not yet measured on a GPU");
  sub->add_flag("--json", a->json, "Print one JSON line");
  sub->add_flag("--profile", a->profile,
                "Time every op of the timed steps: per op kind (conv fwd/dgrad/wgrad, batch norm, pools, concat, "
                "...) and per block");
  sub->callback([a] { run_bench(*a); });
}

}  // namespace thaw::cli
