// `thaw samplesize`: how large a test set must be to estimate a sensitivity or specificity to a
// given precision (normal approximation and exact Clopper-Pearson).
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "stats/sample_size.h"

namespace thaw::cli {

namespace {

struct SampleSizeArgs {
  std::string metric;
  double expected = 0, half_width = 0, prevalence = 0;
  bool json = false;
};

void run_samplesize(const SampleSizeArgs& a) {
  const SampleSizeMetric metric = parse_sample_size_metric(a.metric, "--metric");
  constexpr double kConfidence = 0.95;
  const SampleSizePlan plan = plan_sample_size(metric, a.expected, a.half_width, a.prevalence, kConfidence);
  const bool sens = metric == SampleSizeMetric::Sensitivity;
  const char* cases = sens ? "positives" : "negatives";
  if (a.json) {
    const nlohmann::json j = {{"metric", a.metric},
                              {"expected", a.expected},
                              {"half_width", a.half_width},
                              {"prevalence", a.prevalence},
                              {"confidence", kConfidence},
                              {"normal", {{cases, plan.normal.cases}, {"total", plan.normal.total}}},
                              {"exact", {{cases, plan.exact.cases}, {"total", plan.exact.total},
                                         {"achieved_half_width", plan.achieved_half_width_exact}}}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("%s %.4g, 95%% interval half-width %.4g, prevalence %.4g\n", a.metric.c_str(), a.expected, a.half_width,
              a.prevalence);
  std::printf("  normal approximation:     %lld %s, %lld samples in all\n", static_cast<long long>(plan.normal.cases),
              cases, static_cast<long long>(plan.normal.total));
  std::printf("  exact (Clopper-Pearson):  %lld %s, %lld samples in all (half-width %.4f)\n",
              static_cast<long long>(plan.exact.cases), cases, static_cast<long long>(plan.exact.total),
              plan.achieved_half_width_exact);
}

}  // namespace

void add_samplesize(CLI::App& app) {
  auto a = std::make_shared<SampleSizeArgs>();
  CLI::App* sub = app.add_subcommand("samplesize", "Test-set size needed to estimate a sensitivity or specificity");
  sub->add_option("--metric", a->metric, "sensitivity or specificity")->required();
  sub->add_option("--expected", a->expected, "The value you expect, e.g. 0.9")->required()->check(in_range(real(0, 1, true, true)));
  sub->add_option("--half-width", a->half_width, "Half-width of the 95% interval you want, e.g. 0.05")->required()->check(in_range(real(0, 0.5, true, true)));
  sub->add_option("--prevalence", a->prevalence, "Share of positives in the test population, e.g. 0.2")->required()->check(in_range(real(0, 1)));
  sub->add_flag("--json", a->json, "Print JSON instead of text");
  sub->callback([a] { run_samplesize(*a); });
}

}  // namespace thaw::cli
