#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <omp.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "engine/executor.h"
#include "engine/optimizer.h"
#include "engine/synthetic.h"
#include "graph/inception_v4.h"
#include "kernels/cpu/loss.h"

namespace thaw::cli {

namespace {

struct BenchArgs {
  std::string device = "cpu";
  int64_t batch_size = 8;
  int64_t input_size = 299;
  int64_t classes = 1000;
  std::string freeze_through = "none";
  int64_t steps = 3;
  int64_t warmup = 1;
  int threads = 0;
  bool json = false;
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

void run_bench(const BenchArgs& a) {
  if (a.device != "cpu") {
    if (a.device == "cuda") fail_user("--device cuda: the CUDA training path is not built yet; use --device cpu");
    fail_user("--device: expected cpu or cuda, got '", a.device, "'");
  }
  if (a.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", a.batch_size);
  if (a.steps < 1) fail_user("--steps: expected at least 1, got ", a.steps);
  if (a.warmup < 0) fail_user("--warmup: expected 0 or more, got ", a.warmup);
  check_threads(a.threads);
  const Graph g = build_inception_v4(a.input_size, a.classes);
  const Plan plan = make_plan(g, g.find_block(a.freeze_through), BnPolicy::Train);
  ModelState<float> state = ModelState<float>::random(g, 0);
  Executor<float> exec(g, plan, state);
  std::vector<ParamRef<float>> refs;
  for (int t : plan.trainable_tensors) {
    refs.push_back({g.tensors[t].name, state.values[t].data(), exec.grads()[t].data(), state.values[t].numel(),
                    g.tensors[t].role == TensorRole::Weight});
  }
  OptimizerConfig oc;
  Optimizer<float> opt(oc, refs);
  Tensor<float> x, dlogits;
  std::vector<int32_t> labels;
  double seconds = 0;
  for (int64_t s = 0; s < a.warmup + a.steps; ++s) {
    synthetic_batch(1, s, a.batch_size, a.input_size, a.classes, x, labels);
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor<float>& logits = exec.forward(x, Phase::Train, {0, s, 0});
    dlogits.reshape_uninit(logits.shape());
    cpu::softmax_cross_entropy<float>(a.batch_size, a.classes, logits.data(), labels.data(), 0.0, nullptr,
                                      dlogits.data());
    exec.backward(dlogits);
    opt.step(1e-3);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s >= a.warmup) seconds += dt;
    if (!a.json) std::fprintf(stderr, "step %lld: %.3f s\n", static_cast<long long>(s), dt);
  }
  // Model FLOPs: 2 x MACs forward everywhere, 2 x 2 x MACs more for the trainable part's backward.
  int64_t trainable_macs = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (plan.trainable[i]) trainable_macs += g.node_macs(static_cast<int>(i));
  }
  const double flops_per_image = 2.0 * static_cast<double>(g.macs()) + 4.0 * static_cast<double>(trainable_macs);
  const double ips = static_cast<double>(a.steps * a.batch_size) / seconds;
  nlohmann::json j = {{"device", "cpu"},
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
  sub->add_option("--batch-size", a->batch_size, "Images per step")->capture_default_str();
  sub->add_option("--input-size", a->input_size, "Input height and width (>= 75)")->capture_default_str();
  sub->add_option("--classes", a->classes, "Number of output classes")->capture_default_str();
  sub->add_option("--freeze-through", a->freeze_through, "Freeze this block and all before it")->capture_default_str();
  sub->add_option("--steps", a->steps, "Timed steps")->capture_default_str();
  sub->add_option("--warmup", a->warmup, "Untimed steps first")->capture_default_str();
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str();
  sub->add_flag("--json", a->json, "Print one JSON line");
  sub->callback([a] { run_bench(*a); });
}

}  // namespace thaw::cli
