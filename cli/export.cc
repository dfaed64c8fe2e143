#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "engine/run/model_export.h"

namespace thaw::cli {

namespace {

struct ExportArgs {
  std::string dir;
  std::string out;
};

}  // namespace

void add_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* sub = app.add_subcommand(
      "export", "Write a run's fine-tuned model as a timm state_dict in safetensors (strict keys, float32)");
  sub->add_option("RUN_DIR", a->dir, "Run folder written by thaw train")->required();
  sub->add_option("--out", a->out, "The safetensors file to write")->required();
  sub->callback([a] {
    const ExportResult r = export_model(a->dir, a->out);
    if (r.from_checkpoint) {
      std::cerr << "thaw: the run did not finish (" << r.steps_done << " of " << r.total_steps
                << " steps); exported its newest checkpoint " << r.source.string() << "\n";
    }
    std::cout << "wrote " << a->out << ": " << r.tensors << " tensors from " << r.source.string() << " ("
              << r.steps_done << " steps)\n";
  });
}

}  // namespace thaw::cli
