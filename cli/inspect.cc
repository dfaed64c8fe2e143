#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "engine/model/plan.h"
#include "graph/network.h"

namespace thaw::cli {

namespace {

struct InspectArgs {
  std::string arch = "inception_v4";
  int64_t input_size = 299;
  int64_t classes = 1000;
  std::string freeze_through = "none";
  std::string bn = "train";
  bool json = false;
};

std::string grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string dims(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

void run_inspect(const InspectArgs& a) {
  const Graph g = build_network(a.arch, a.input_size, a.classes);
  const Plan plan = make_plan(g, g.find_block(a.freeze_through), parse_bn_policy(a.bn));
  const int64_t kept = plan.kept_bytes_per_sample(g, 4);
  nlohmann::json j;
  j["arch"] = g.arch;
  j["input_size"] = g.input_size;
  j["classes"] = g.num_classes;
  j["freeze_through"] = a.freeze_through;
  int64_t trainable = 0, frozen = 0;
  for (size_t b = 0; b < g.blocks.size(); ++b) {
    const Block& blk = g.blocks[b];
    const bool is_frozen = static_cast<int>(b) <= plan.freeze_block;
    const int64_t params = g.block_parameter_count(static_cast<int>(b));
    (is_frozen ? frozen : trainable) += params;
    j["blocks"].push_back({{"name", blk.name},
                           {"alias", blk.alias},
                           {"output", g.nodes[blk.last_node].out},
                           {"params", params},
                           {"trainable", !is_frozen},
                           {"macs", g.block_macs(static_cast<int>(b))}});
  }
  j["params"] = {{"total", g.parameter_count()}, {"trainable", trainable}, {"frozen", frozen}};
  j["macs_per_image"] = g.macs();
  j["kept_activation_bytes_per_image_fp32"] = kept;
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::printf("%s at %lldx%lld, %lld classes, frozen through %s\n", g.arch.c_str(),
              static_cast<long long>(g.input_size), static_cast<long long>(g.input_size),
              static_cast<long long>(g.num_classes), a.freeze_through.c_str());
  std::printf("%-13s %-12s %-14s %14s %-9s %18s\n", "block", "module", "output", "params", "state", "MACs/image");
  for (const auto& b : j["blocks"]) {
    std::printf("%-13s %-12s %-14s %14s %-9s %18s\n", b["name"].get<std::string>().c_str(),
                b["alias"].get<std::string>().empty() ? "-" : b["alias"].get<std::string>().c_str(), dims(b["output"].get<Shape>()).c_str(),
                grouped(b["params"].get<int64_t>()).c_str(), b["trainable"].get<bool>() ? "trainable" : "frozen",
                grouped(b["macs"].get<int64_t>()).c_str());
  }
  std::printf("total parameters %s (trainable %s, frozen %s)\n", grouped(g.parameter_count()).c_str(),
              grouped(trainable).c_str(), grouped(frozen).c_str());
  std::printf("multiply-accumulates per image %s\n", grouped(g.macs()).c_str());
  std::printf("activations kept for backward: %.2f MiB per image (fp32)\n", static_cast<double>(kept) / (1 << 20));
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* sub = app.add_subcommand("inspect", "Show the network block by block: shapes, parameters, MACs, freezing");
  sub->add_option("--arch", args->arch, "inception_v4 or inception_v3")->capture_default_str();
  sub->add_option("--input-size", args->input_size, "Input height and width (>= 75)")->capture_default_str()->check(in_range(input_size_range()));
  sub->add_option("--classes", args->classes, "Number of output classes")->capture_default_str()->check(in_range(whole(1, kMaxClasses)));
  sub->add_option("--freeze-through", args->freeze_through,
                  "Freeze this block and all before it (none, or a block or alias of the table)")
      ->capture_default_str();
  sub->add_option("--bn", args->bn, "Batch norm in trainable blocks: train or frozen")->capture_default_str();
  sub->add_flag("--json", args->json, "Print JSON instead of a table");
  sub->callback([args] { run_inspect(*args); });
}

}  // namespace thaw::cli
