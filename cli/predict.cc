#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "cli/predict_images.h"
#include "core/error.h"
#include "engine/model/weights_io.h"
#include "engine/model/batch_memory.h"
#include "engine/gpu/cuda_device.h"
#include "engine/gpu/cuda_predict.h"
#include "engine/model/executor.h"
#include "study/eval_model.h"
#include "engine/model/weights_origin.h"
#include "io/image_decode.h"
#include "io/npy.h"

namespace thaw::cli {

namespace {

struct PredictArgs {
  std::string weights, input, output;
  std::string on_bad_image = "fail";
  int64_t max_image_pixels = kMaxImagePixels;
  std::string window;
  int64_t dicom_frame = 0;
  std::string arch = "inception_v4";
  int64_t classes = 0;  // 0: the weights' classifier's
  std::string device = "cpu";
  int64_t batch_size = 16;
  int threads = 0;
  int64_t input_size = 0;                // image input only; 0: the weights' metadata, else 299
  std::vector<std::string> class_names;  // image input only
};

// What the weights say of themselves: the classifier's class count and the input size they were
// trained at (metadata thaw_input_size), where the flags do not say.
PredictArgs with_weights_defaults(PredictArgs a) {
  check_weights_arch(a.arch, a.weights);  // weights of the other architecture: that, not a missing tensor
  if (a.classes > 0 && a.input_size > 0) return a;
  const EvalModel m = model_from_weights(a.weights, a.arch, a.input_size);  // one read for both
  if (a.classes == 0) a.classes = m.classes;
  a.input_size = m.input_size;
  if (m.input_size_from_metadata) {
    std::cerr << "thaw: input size " << a.input_size << " from " << a.weights << " (metadata thaw_input_size)\n";
  }
  return a;
}

void run_predict(const PredictArgs& given) {
  // The device before any file is read.
  if (given.device != "cpu" && given.device != "cuda") fail_user("--device: expected cpu or cuda, got '", given.device, "'");
  if (given.device == "cuda") require_cuda_device();
  const PredictArgs a = with_weights_defaults(given);
  if (a.batch_size < 1) fail_user("--batch-size: expected at least 1, got ", a.batch_size);
  check_threads(a.threads);
  if (is_image_input(a.input)) {
    if (a.device != "cpu") fail_user("--device ", a.device, ": image input runs on the CPU for now; use --device cpu");
    if (a.on_bad_image != "fail" && a.on_bad_image != "skip") {
      fail_user("--on-bad-image: expected fail or skip, got '", a.on_bad_image, "'");
    }
    predict_images({a.weights, a.input, a.output, a.classes, a.input_size, a.class_names, a.batch_size, a.arch,
                    a.on_bad_image == "skip", a.max_image_pixels,
                    pixel_mapping_of(a.window, a.dicom_frame)});
    return;
  }
  const NpyArray in = read_npy(a.input);
  if (in.shape.size() != 4 || in.shape[1] != 3 || in.shape[2] != in.shape[3]) {
    fail_user(a.input, ": expected a float32 array N x 3 x H x W with H == W, got shape ", shape_str(in.shape));
  }
  const int64_t n = in.shape[0], size = in.shape[2];
  const Graph g = build_graph_for(a.arch, size, a.classes, 0.0, a.weights);
  check_inference_batch_memory(g, std::min(a.batch_size, n), "--batch-size");
  ModelState<float> state = ModelState<float>::zeros(g);
  const LoadReport rep = load_weights(a.weights, g, state, 0);
  if (rep.head_reinitialised) {
    if (rep.file_classes == 0) fail_user("--weights ", a.weights, ": has no classifier; fine-tune one with thaw train");
    fail_user("--classes: ", a.classes, " does not match the ", rep.file_classes, " classes of ", a.weights);
  }
  const std::vector<float> x = in.to_float();
  if (a.device == "cuda") {
    write_npy(a.output, cuda_predict_logits(g, state, x, n, a.batch_size));
    std::cerr << "thaw: wrote logits [" << n << ", " << a.classes << "] to " << a.output << " (cuda)\n";
    return;
  }
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, plan, state);
  Tensor<float> y({n, a.classes});
  const int64_t per = 3 * size * size;
  for (int64_t start = 0; start < n; start += a.batch_size) {
    const int64_t b = std::min(a.batch_size, n - start);
    Tensor<float> batch({b, 3, size, size});
    std::copy(x.begin() + start * per, x.begin() + (start + b) * per, batch.data());
    const Tensor<float>& logits = exec.forward(batch, Phase::Eval);
    std::copy(logits.data(), logits.data() + logits.numel(), y.data() + start * a.classes);
  }
  write_npy(a.output, y);
  std::cerr << "thaw: wrote logits " << shape_str(y.shape()) << " to " << a.output << "\n";
}

}  // namespace

void add_predict(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Logits for normalised images (.npy in, .npy out), or class probabilities for JPEG/PNG files (CSV out)");
  sub->add_option("--weights", a->weights, "Weights (safetensors with timm keys)")->required();
  sub->add_option("--arch", a->arch, "inception_v4 or inception_v3 (as the weights)")->capture_default_str();
  sub->add_option("--classes", a->classes, "Number of classes of the weights' head (default: the file's classifier)")->check(in_range(whole(1, kMaxClasses)));
  sub->add_option("--input", a->input, "float32 N x 3 x H x W, normalised (.npy); or a JPEG/PNG file or a folder of them")
      ->required();
  sub->add_option("--output", a->output, "float32 N x K logits (.npy); for images a CSV: path,predicted,<class>...")
      ->required();
  sub->add_option("--input-size", a->input_size, "Images: input height and width (default: the weights' thaw_input_size, else 299)")->check(in_range(input_size_range()));
  sub->add_option("--class-names", a->class_names, "Images: class names, comma separated (default: from the weights)")
      ->delimiter(',');
  sub->add_option("--device", a->device, "cpu or cuda")->capture_default_str();
  sub->add_option("--batch-size", a->batch_size, "Images per forward pass")->capture_default_str()->check(in_range(whole(1, kMaxBatch)));
  sub->add_option("--on-bad-image", a->on_bad_image,
                  "Images: an unreadable one stops the run (fail) or is left out and listed in OUTPUT.skipped.txt (skip)")
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str()->check(in_range(threads_range()));
  add_max_image_pixels_flag(sub, a->max_image_pixels);
  add_pixel_mapping_flags(sub, a->window, a->dicom_frame);
  sub->callback([a] { run_predict(*a); });
}

}  // namespace thaw::cli
