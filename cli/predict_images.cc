#include "cli/predict_images.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/model/tensor_checks.h"
#include "engine/model/weights_io.h"
#include "engine/model/batch_memory.h"
#include "engine/model/executor.h"
#include "engine/model/weights_origin.h"
#include "io/atomic_file.h"
#include "io/augment.h"
#include "io/csv.h"
#include "io/image_decode.h"
#include "io/image_manifest.h"
#include "io/safetensors.h"

namespace thaw::cli {

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> image_paths(const std::string& input) {
  if (!fs::is_directory(input)) {
    if (!fs::exists(input)) fail_user("--input: ", input, " not found");
    return {fs::path(input)};
  }
  std::vector<fs::path> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(input, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && is_image_name(it->path())) paths.push_back(it->path());
  }
  if (ec) fail_user("--input: cannot list ", input, ": ", ec.message());
  if (paths.empty()) fail_user("--input: ", input, " holds no ", kImageNames, " images");
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::string> class_names_for(const PredictImagesArgs& a) {
  std::vector<std::string> names = a.class_names;
  std::string from = "--class-names";
  if (names.empty()) {
    const SafeTensorsFile f = SafeTensorsFile::read(a.weights);
    names = metadata_class_names(f.metadata(), a.weights);
    if (!names.empty()) from = a.weights + " (metadata thaw_class_names)";
  }
  if (names.empty()) {
    for (int64_t c = 0; c < a.classes; ++c) names.push_back(std::to_string(c));
  }
  if (static_cast<int64_t>(names.size()) != a.classes) {
    fail_user(from, ": ", names.size(), " class names for a model with ", a.classes, " classes (--classes)");
  }
  return names;
}

std::string probability(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", p);
  return buf;
}

}  // namespace

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

bool is_image_input(const std::string& input) { return fs::is_directory(input) || is_image_name(input); }

void predict_images(const PredictImagesArgs& a) {
  if (a.input_size < 75) fail_user("--input-size: expected at least 75, got ", a.input_size);
  const std::vector<fs::path> paths = image_paths(a.input);
  const std::vector<std::string> names = class_names_for(a);
  const Graph g = build_graph_for(a.arch, a.input_size, a.classes, 0.0, a.weights);
  check_inference_batch_memory(g, std::min<int64_t>(a.batch_size, static_cast<int64_t>(paths.size())), "--batch-size");
  ModelState<float> state = ModelState<float>::zeros(g);
  const LoadReport rep = load_weights(a.weights, g, state, 0);
  if (rep.head_reinitialised) {
    if (rep.file_classes == 0) fail_user("--weights ", a.weights, ": has no classifier; fine-tune one with thaw train");
    fail_user("--classes: ", a.classes, " does not match the ", rep.file_classes, " classes of ", a.weights);
  }
  const Plan plan = make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen);
  Executor<float> exec(g, plan, state);
  const int64_t n = static_cast<int64_t>(paths.size()), s = a.input_size, per = 3 * s * s, k = a.classes;
  std::ostringstream csv, skipped;
  int64_t written = 0;
  csv << "path,predicted";
  for (const std::string& c : names) csv << ',' << csv_field(c);
  csv << '\n';
  for (int64_t start = 0; start < n; start += a.batch_size) {
    const int64_t b = std::min(a.batch_size, n - start);
    Tensor<float> batch({b, 3, s, s});
    std::vector<std::exception_ptr> errors(static_cast<size_t>(b));
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < b; ++i) {
      try {
        const fs::path& p = paths[start + i];
        preprocess_eval(read_image(p, eval_resize_short_side(s), a.max_image_pixels, a.pixel_mapping), s, batch.data() + i * per);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
    for (size_t i = 0; i < errors.size(); ++i) {
      if (errors[i] && !a.skip_bad_images) std::rethrow_exception(errors[i]);
      if (errors[i]) skipped << paths[start + static_cast<int64_t>(i)].string() << ": " << what_of(errors[i]) << '\n';
    }
    const Tensor<float>& logits = exec.forward(batch, Phase::Eval);
    for (int64_t i = 0; i < b; ++i) {
      if (errors[static_cast<size_t>(i)]) continue;
      ++written;
      const float* row = logits.data() + i * k;
      const int64_t best = std::max_element(row, row + k) - row;
      std::vector<double> p(static_cast<size_t>(k));
      double sum = 0;
      for (int64_t c = 0; c < k; ++c) sum += p[c] = std::exp(double(row[c]) - double(row[best]));
      csv << csv_field(paths[start + i].string()) << ',' << csv_field(names[best]);
      for (int64_t c = 0; c < k; ++c) csv << ',' << probability(p[c] / sum);
      csv << '\n';
    }
  }
  write_file_atomic(a.output, csv.str());
  std::cerr << "thaw: wrote class probabilities for " << written << " image" << (written == 1 ? "" : "s") << " to "
            << a.output << "\n";
  if (written < n) {
    const std::string list = a.output + ".skipped.txt";
    write_file_atomic(list, skipped.str());
    std::cerr << "thaw: skipped " << n - written << " unreadable image" << (n - written == 1 ? "" : "s")
              << " (--on-bad-image skip), listed in " << list << "\n";
  }
}

}  // namespace thaw::cli
