#include "study/eval_model.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/run/split_options.h"
#include "engine/model/tensor_checks.h"
#include "engine/model/weights_io.h"
#include "engine/run/record.h"
#include "engine/model/weights_origin.h"
#include "graph/network.h"
#include "io/dataset_view.h"
#include "io/datasets.h"
#include "io/safetensors.h"

namespace thaw {

namespace {

std::string name_list(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

EvalModel model_from_weights(const std::filesystem::path& weights, const std::string& arch, int64_t input_size) {
  EvalModel m;
  m.weights = weights;
  const SafeTensorsFile file = SafeTensorsFile::read(weights);
  m.input_size = input_size;
  if (m.input_size <= 0) {
    m.input_size = metadata_input_size(file.metadata(), cat_str("--weights ", weights.string()));
    m.input_size_from_metadata = m.input_size > 0;
    if (!m.input_size_from_metadata) m.input_size = 299;
  }
  const auto meta = [&](const char* key) -> std::string {
    const auto it = file.metadata().find(key);
    return it == file.metadata().end() ? std::string() : it->second;
  };
  m.arch = arch.empty() ? (meta("arch").empty() ? "inception_v4" : meta("arch")) : arch;
  // The head's bias names the class count: its name comes from the architecture's graph.
  const Graph probe = build_network(m.arch, m.input_size, 2);
  const Node& head = probe.nodes[static_cast<size_t>(probe.output_node())];
  const std::string& bias = probe.tensors[static_cast<size_t>(head.tensors.back())].name;
  if (!file.has(bias)) fail_user("--weights ", weights.string(), ": no classifier tensor ", bias, " (", m.arch, ")");
  const Shape& shape = file.info(bias).shape;
  if (shape.size() != 1 || shape[0] < 2) {
    fail_user("--weights ", weights.string(), ": ", bias, " has shape ", shape_str(shape), ", expected [K] with K >= 2");
  }
  m.classes = shape[0];
  m.class_names = metadata_class_names(file.metadata(), cat_str("--weights ", weights.string()));
  if (!m.class_names.empty() && static_cast<int64_t>(m.class_names.size()) != m.classes) {
    fail_user("--weights ", weights.string(), ": metadata thaw_class_names has ", m.class_names.size(),
              " names for a classifier of ", m.classes, " classes");
  }
  return m;
}

RunForEval run_for_eval(const std::filesystem::path& run_dir) {
  const nlohmann::ordered_json rec = read_record(run_dir);
  RunForEval r;
  r.config = nlohmann::json::parse(rec.at("config").dump()).get<RunConfig>();
  const std::filesystem::path weights = run_dir / "weights.safetensors";
  if (rec.value("status", "") != "complete" || !std::filesystem::exists(weights)) {
    fail_user("--run ", run_dir.string(), ": the run did not finish (no weights.safetensors); nothing to evaluate");
  }
  r.model = model_from_weights(weights, r.config.arch, r.config.input_size);
  return r;
}

Graph build_eval_graph(const EvalModel& m) {
  return build_graph_for(m.arch, m.input_size, m.classes, 0.0, m.weights.string());
}

ModelState<float> load_eval_state(const EvalModel& m, const Graph& g) {
  ModelState<float> state = ModelState<float>::zeros(g);
  load_weights(m.weights, g, state, 0);
  return state;
}

std::unique_ptr<Dataset> open_eval_data(const RunConfig& c, DataSplit split) {
  const DataOptions o = split_options(c);
  std::unique_ptr<Dataset> d = with_class_subset(open_dataset(c.data, split, o), c.class_subset);
  if (d->size() == 0) {
    fail_user("--data ", c.data, ": no ", split_name(split), " samples to evaluate",
              !is_image_data(c.data)      ? ""
              : split == DataSplit::Test ? " (give --test-fraction F to carve some out of train)"
              : split == DataSplit::Val  ? " (give --val-fraction F to carve some out of train)"
                                         : "");
  }
  return d;
}

std::vector<std::string> model_class_names(const EvalModel& m) {
  if (!m.class_names.empty()) return m.class_names;
  std::vector<std::string> names;
  for (int64_t c = 0; c < m.classes; ++c) names.push_back(std::to_string(c));
  return names;
}

std::vector<int32_t> model_class_of_data_class(const EvalModel& m, const Dataset& data) {
  const std::vector<std::string> names = data.class_names();
  std::vector<int32_t> map;
  if (m.class_names.empty()) {
    if (static_cast<int64_t>(names.size()) > m.classes) {
      fail_user("--data: ", data.describe(), " has ", names.size(), " classes, the model (", m.weights.string(), ") only ",
                m.classes);
    }
    for (size_t c = 0; c < names.size(); ++c) map.push_back(static_cast<int32_t>(c));
    return map;
  }
  for (const std::string& n : names) {
    int32_t found = -1;
    for (size_t c = 0; c < m.class_names.size(); ++c) {
      if (m.class_names[c] == n) found = static_cast<int32_t>(c);
    }
    if (found < 0) {
      fail_user("--data: class '", n, "' is not a class of the model (", name_list(m.class_names), ": ",
                m.weights.string(), "); narrow the data with --class-subset (data: ", data.describe(), ")");
    }
    map.push_back(found);
  }
  return map;
}

std::unique_ptr<Dataset> without_unreadable(std::unique_ptr<Dataset> data, int64_t size, int64_t limit,
                                            std::vector<std::string>& skipped) {
  const int64_t n = limit > 0 ? std::min(limit, data->size()) : data->size();
  std::vector<std::string> why(static_cast<size_t>(n));
#pragma omp parallel
  {
    std::vector<float> chw(static_cast<size_t>(3 * size * size));
#pragma omp for schedule(dynamic)
    for (int64_t i = 0; i < n; ++i) {
      try {
        data->load(i, size, LoadMode::eval(), chw.data());
      } catch (const UserError& e) {
        why[static_cast<size_t>(i)] = e.what();
      }
    }
  }
  std::vector<int64_t> good;
  for (int64_t i = 0; i < n; ++i) {
    if (why[static_cast<size_t>(i)].empty()) {
      good.push_back(i);
    } else {
      skipped.push_back(why[static_cast<size_t>(i)]);
    }
  }
  if (skipped.empty()) return data;
  std::string desc = cat_str(data->describe(), ", ", skipped.size(), " unreadable left out");
  return std::make_unique<DatasetView>(std::move(data), std::move(good), std::vector<int32_t>{},
                                       std::vector<std::string>{}, std::move(desc));
}

}  // namespace thaw
