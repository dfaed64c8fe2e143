#include "engine/model/weights_io.h"

#include <algorithm>

#include "core/error.h"
#include "engine/model/tensor_checks.h"
#include "engine/model/weights_origin.h"
#include "io/safetensors.h"

namespace thaw {

template <typename T>
LoadReport load_weights(const std::filesystem::path& path, const Graph& g, ModelState<T>& state, uint64_t seed) {
  const SafeTensorsFile file = SafeTensorsFile::read(path);
  LoadReport report;
  // The classifier's weight: the first tensor of the graph's last node (last_linear, fc).
  const Node& head = g.nodes[g.output_node()];
  const int head_w = head.tensors.empty() ? -1 : head.tensors.front();
  if (head_w >= 0 && file.has(g.tensors[head_w].name)) {
    const Shape& fs = file.info(g.tensors[head_w].name).shape;
    const Shape& gs = g.tensors[head_w].shape;
    if (fs.size() == 2 && fs[1] == gs[1] && fs[0] != gs[0]) {
      report.head_reinitialised = true;
      report.file_classes = fs[0];
      report.note = cat_str(path.string(), ": classifier has ", fs[0], " classes, --classes is ", gs[0], "; ",
                            head.name, " re-initialised from seed ", seed);
    } else {
      report.file_classes = fs.empty() ? 0 : fs[0];
    }
  } else if (head_w >= 0 && std::none_of(head.tensors.begin(), head.tensors.end(),
                                         [&](int t) { return file.has(g.tensors[t].name); })) {
    // A feature extractor (imported weights without their original head): the head is new.
    report.head_reinitialised = true;
    report.note = cat_str(path.string(), ": has no classifier (", head.name, "); ", head.name,
                          " initialised from seed ", seed);
  }
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorSpec& spec = g.tensors[i];
    if (report.head_reinitialised && g.is_head_tensor(static_cast<int>(i))) {
      state.init_tensor(g, static_cast<int>(i), seed);
      continue;
    }
    if (spec.role == TensorRole::NumBatchesTracked) {
      state.batches_tracked[i] = file.has(spec.name) ? read_batches_tracked(file, spec.name) : 0;
      continue;
    }
    if (!file.has(spec.name)) {
      fail_user(path.string(), ": missing tensor ", spec.name, " (expected shape ", shape_str(spec.shape), ")");
    }
    if constexpr (std::is_same_v<T, double>) {
      state.values[i] = file.tensor_double(spec.name, spec.shape);
    } else {
      state.values[i] = file.tensor_float(spec.name, spec.shape);
    }
    const Tensor<T>& v = state.values[i];
    check_finite<T>({v.data(), static_cast<size_t>(v.numel())}, path.string(), spec.name);
  }
  for (const std::string& name : file.names()) {
    if (g.find_tensor(name) < 0) {
      fail_user(path.string(), ": unexpected tensor ", name, " with shape ", shape_str(file.info(name).shape),
                " (not part of ", g.arch, ")");
    }
  }
  return report;
}

template <typename T>
void save_weights(const std::filesystem::path& path, const Graph& g, const ModelState<T>& state,
                  const std::map<std::string, std::string>& metadata) {
  SafeTensorsWriter w;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const TensorSpec& spec = g.tensors[i];
    if (spec.role == TensorRole::NumBatchesTracked) {
      w.add_int64_scalar(spec.name, state.batches_tracked[i]);
      continue;
    }
    if constexpr (std::is_same_v<T, float>) {
      w.add(spec.name, state.values[i]);
    } else {
      Tensor<float> f(state.values[i].shape());
      for (int64_t k = 0; k < f.numel(); ++k) f[k] = static_cast<float>(state.values[i][k]);
      w.add(spec.name, f);
    }
  }
  w.set_metadata("format", "pt");
  w.set_metadata("arch", g.arch);
  w.set_metadata("num_classes", std::to_string(g.num_classes));
  for (const auto& [k, v] : conventions_metadata(g)) w.set_metadata(k, v);
  for (const auto& [k, v] : metadata) w.set_metadata(k, v);
  w.write(path);
}

template LoadReport load_weights(const std::filesystem::path&, const Graph&, ModelState<float>&, uint64_t);
template LoadReport load_weights(const std::filesystem::path&, const Graph&, ModelState<double>&, uint64_t);
template void save_weights(const std::filesystem::path&, const Graph&, const ModelState<float>&,
                           const std::map<std::string, std::string>&);
template void save_weights(const std::filesystem::path&, const Graph&, const ModelState<double>&,
                           const std::map<std::string, std::string>&);

}  // namespace thaw
