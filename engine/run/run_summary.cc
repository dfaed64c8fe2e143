#include "engine/run/run_summary.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/file_bytes.h"

namespace thaw {

void write_run_summary(const std::filesystem::path& run_dir, const RunSummary& s) {
  nlohmann::json j;  // keys sorted, as summary.json always had them
  j["command"] = s.command;
  j["resume_commands"] = s.resume_commands;
  j["data"] = s.data;
  j["initial_weights"] = s.initial_weights;
  j["classes"] = s.classes;
  j["class_names"] = s.class_names;
  j["input_size"] = s.input_size;
  j["freeze_through"] = s.freeze_through;
  j["trainable_parameters"] = s.trainable_parameters;
  j["steps"] = s.steps;
  for (const EpochResult& e : s.epochs) {
    j["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"seconds", e.seconds},
                           {"images_per_s", e.images_per_s}, {"val_loss", e.val_loss}, {"val_accuracy", e.val_accuracy}});
  }
  write_file_atomic(run_dir / "summary.json", j.dump(2) + "\n");
}

RunSummary read_run_summary(const std::filesystem::path& run_dir) {
  const std::filesystem::path file = run_dir / "summary.json";
  const nlohmann::json j = nlohmann::json::parse(read_file_bytes(file), nullptr, false);
  RunSummary s;
  try {
    if (j.is_discarded()) fail_user(file.string(), ": not valid JSON");
    s.command = j.value("command", "");
    s.resume_commands = j.value("resume_commands", std::vector<std::string>{});
    s.data = j.value("data", "");
    s.initial_weights = j.value("initial_weights", "");
    s.classes = j.value("classes", int64_t{0});
    s.class_names = j.value("class_names", std::vector<std::string>{});
    s.input_size = j.value("input_size", int64_t{0});
    s.freeze_through = j.value("freeze_through", "");
    s.trainable_parameters = j.at("trainable_parameters").get<int64_t>();
    s.steps = j.at("steps").get<int64_t>();
    for (const nlohmann::json& e : j.value("epochs", nlohmann::json::array())) {
      EpochResult r;
      r.epoch = e.at("epoch").get<int64_t>();
      r.train_loss = e.at("train_loss").get<double>();
      r.seconds = e.at("seconds").get<double>();
      r.images_per_s = e.at("images_per_s").get<double>();
      r.val_loss = e.at("val_loss").get<double>();
      r.val_accuracy = e.at("val_accuracy").get<double>();
      s.epochs.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    fail_user(file.string(), ": not a summary.json as thaw train writes it (", e.what(), ")");
  }
  return s;
}

}  // namespace thaw
