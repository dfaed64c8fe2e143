#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "engine/data/synthetic.h"
#include "engine/model/executor.h"
#include "engine/run/model_export.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "study/child_process.h"
#include "study/eval_model.h"
#include "io/file_bytes.h"

namespace thaw::cli {

namespace {

struct ExportArgs {
  std::string dir;
  std::string out;
  std::string onnx;
  std::string script;  // the ONNX exporter (default: scripts/export-onnx of this build)
};

// Check images for the ONNX export: four synthetic images at the model's input size, through
// thaw's own CPU forward; the exporter's reference model must give the same logits.
constexpr int64_t kCheckImages = 4;

// `weights` (a thaw export) as ONNX at `onnx`, through scripts/export-onnx; the reference model's
// logits checked against thaw's on the check images. Returns the exporter's JSON report.
nlohmann::json export_onnx(const std::filesystem::path& weights, const std::filesystem::path& onnx,
                           const std::string& script_flag) {
  const std::filesystem::path script =
      script_flag.empty() ? script_of_this_build("export-onnx") : std::filesystem::path(script_flag);
  std::error_code ec;
  if (script.empty() || !std::filesystem::exists(script, ec)) {
    fail_user("--onnx: the exporter scripts/export-onnx is not found beside this build; give --onnx-script");
  }
  const EvalModel m = model_from_weights(weights, "", 0);
  const Graph g = build_eval_graph(m);
  ModelState<float> state = load_eval_state(m, g);
  Tensor<float> x;
  std::vector<int32_t> labels;
  synthetic_batch(11, 0, kCheckImages, g.input_size, g.num_classes, x, labels);
  const Plan frozen = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, frozen, state);
  const Tensor<float> logits = exec.forward(x, Phase::Eval);

  const std::filesystem::path work = onnx.parent_path().empty() ? "." : onnx.parent_path();
  const std::filesystem::path images = work / (onnx.filename().string() + ".images.npy");
  const std::filesystem::path thaw_logits = work / (onnx.filename().string() + ".thaw-logits.npy");
  const std::filesystem::path meta = work / (onnx.filename().string() + ".metadata.json");
  const std::filesystem::path log = work / (onnx.filename().string() + ".log");
  write_npy(images, x);
  write_npy(thaw_logits, logits);
  nlohmann::json md = nlohmann::json::object();
  const SafeTensorsFile file = SafeTensorsFile::read(weights);
  for (const auto& [k, v] : file.metadata()) md[k] = v;
  md["thaw_input_size"] = std::to_string(g.input_size);
  md["thaw_input"] = "image: float32 [batch, 3, input_size, input_size], NCHW, preprocessed as thaw_preprocess says";
  write_file_atomic(meta, md.dump() + "\n");
  const ChildResult c = run_child({"/usr/bin/python3", script.string(), weights.string(), onnx.string(),
                                   images.string(), thaw_logits.string(), meta.string()},
                                  log, false);
  for (const auto& p : {images, thaw_logits, meta}) std::filesystem::remove(p, ec);
  nlohmann::json report;
  try {
    const std::string text = read_file_or_empty(log);
    const size_t at = text.rfind("{\"images\"");
    if (at != std::string::npos) report = nlohmann::json::parse(text.substr(at, text.find('\n', at) - at));
  } catch (const nlohmann::json::exception&) {
  }
  if (c.exit_code == 3) {
    const std::string file_diff =
        report.contains("onnx_max_abs_logit_diff") ? cat_str(report.value("onnx_max_abs_logit_diff", -1.0)) : "not run";
    fail_user("--onnx: the exported model's logits differ from thaw's (the reference model by ",
              report.value("max_abs_logit_diff", -1.0), ", the ONNX file run in numpy by ", file_diff, "; allowed ",
              report.value("allowed", -1.0), ") or its metadata does; nothing written (see ", log.string(), ")");
  }
  if (c.exit_code != 0 || report.is_null() || !report.contains("onnx_max_abs_logit_diff")) {
    fail_user("--onnx: ", script.string(), " failed (exit ", c.exit_code, "; see ", log.string(),
              "); it needs Debian's python3-torch, python3-numpy and python3-onnx");
  }
  std::filesystem::remove(log, ec);
  return report;
}

void run_export(const ExportArgs& a) {
  if (a.out.empty() && a.onnx.empty()) fail_user("--out or --onnx: give at least one (the file to write)");
  // The safetensors export first; for ONNX alone it goes to a temporary file beside the ONNX model.
  const std::filesystem::path weights = a.out.empty() ? std::filesystem::path(a.onnx + ".safetensors.tmp") : std::filesystem::path(a.out);
  const ExportResult r = export_model(a.dir, weights);
  if (r.from_checkpoint) {
    std::cerr << "thaw: the run did not finish (" << r.steps_done << " of " << r.total_steps
              << " steps); exported its newest checkpoint " << r.source.string() << "\n";
  }
  if (!a.out.empty()) {
    std::cout << "wrote " << a.out << ": " << r.tensors << " tensors from " << r.source.string() << " (" << r.steps_done
              << " steps)\n";
  }
  if (a.onnx.empty()) return;
  nlohmann::json report;
  try {
    report = export_onnx(weights, a.onnx, a.script);
  } catch (...) {
    std::error_code ec;
    if (a.out.empty()) std::filesystem::remove(weights, ec);
    throw;
  }
  std::error_code ec;
  if (a.out.empty()) std::filesystem::remove(weights, ec);
  std::cout << "wrote " << a.onnx << " (ONNX opset " << report.value("opset", 0) << ", dynamic batch); on "
            << report.value("images", 0) << " check images its logits, run in numpy, are within "
            << report.value("onnx_max_abs_logit_diff", 0.0) << " of thaw's, the reference model's within "
            << report.value("max_abs_logit_diff", 0.0) << " (allowed " << report.value("allowed", 0.0) << ")\n";
}

}  // namespace

void add_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* sub = app.add_subcommand(
      "export", "Write a run's fine-tuned model as a timm state_dict in safetensors (strict keys, float32) and/or ONNX");
  sub->add_option("RUN_DIR", a->dir, "Run folder written by thaw train")->required();
  sub->add_option("--out", a->out, "The safetensors file to write");
  sub->add_option("--onnx", a->onnx,
                  "An ONNX model to write (through Debian's python3-torch and scripts/torch_inception_v4.py; its "
                  "logits checked against thaw's on check images; the weights' metadata in metadata_props)");
  sub->add_option("--onnx-script", a->script, "The ONNX exporter to run (default: scripts/export-onnx of this build)");
  sub->callback([a] { run_export(*a); });
}

}  // namespace thaw::cli
