#include "engine/run/tensorboard_events.h"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/run/record.h"
#include "engine/run/record_read.h"
#include "io/atomic_file.h"
#include "io/protobuf_wire.h"
#include "io/tfrecord.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;
using Scalars = std::vector<std::pair<std::string, float>>;

// Field numbers of tensorflow.Event (wall_time 1, step 2, file_version 3, summary 5), Summary
// (value 1) and Summary.Value (tag 1, simple_value 2).
std::string event(double wall_time, int64_t step, const Scalars& scalars) {
  std::string summary;
  for (const auto& [tag, v] : scalars) {
    std::string value;
    protobuf::bytes_field(value, 1, tag);
    protobuf::float_field(value, 2, v);
    protobuf::bytes_field(summary, 1, value);
  }
  std::string e;
  protobuf::double_field(e, 1, wall_time);
  protobuf::int64_field(e, 2, step);
  protobuf::bytes_field(e, 5, summary);
  return e;
}

struct StepLine {
  int64_t epoch = 0;
  Scalars scalars;
};

struct EpochLine {
  double seconds = 0;
  Scalars scalars;
};

// A number a line holds (not null, the NaN's spelling; not -1, "not computed").
bool usable(const nlohmann::json& j, const char* k, bool negative_means_absent) {
  if (!j.contains(k) || !j[k].is_number()) return false;
  return !(negative_means_absent && j[k].get<double>() < 0);
}

}  // namespace

fs::path write_tensorboard_run(const fs::path& logdir, const fs::path& run_dir) {
  const nlohmann::ordered_json record = read_record(run_dir);
  const std::string run_id = record.value("run_id", "");
  if (run_id.empty() || run_id.find('/') != std::string::npos || run_id.front() == '.') {
    fail_user("--tensorboard: ", (run_dir / "record.json").string(), " has no usable run_id");
  }
  const int64_t start = record_time_seconds(record.value("created_utc", ""));

  // A resumed run's metrics.jsonl repeats the steps after its checkpoint: the last line of a step
  // or an epoch is the one that counts.
  std::map<int64_t, StepLine> steps;
  std::map<int64_t, EpochLine> epochs;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string text; std::getline(in, text);) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) continue;  // a torn last line
    if (j.contains("step") && j["step"].is_number_integer()) {
      StepLine s;
      s.epoch = j.value("epoch", int64_t{0});
      if (usable(j, "loss", false)) s.scalars.emplace_back("train/loss", j["loss"].get<float>());
      if (usable(j, "lr", false)) s.scalars.emplace_back("train/lr", j["lr"].get<float>());
      steps[j["step"].get<int64_t>()] = std::move(s);
    } else if (j.contains("epoch_end") && j["epoch_end"].is_number_integer()) {
      EpochLine e;
      e.seconds = usable(j, "seconds", true) ? j["seconds"].get<double>() : 0.0;
      const std::pair<const char*, const char*> names[] = {
          {"train_loss", "epoch/train_loss"}, {"images_per_s", "epoch/images_per_s"}, {"val_loss", "val/loss"},
          {"val_accuracy", "val/accuracy"},   {"val_balanced_accuracy", "val/balanced_accuracy"},
          {"val_auc", "val/auc"}};
      for (const auto& [key, tag] : names) {
        if (usable(j, key, true)) e.scalars.emplace_back(tag, j[key].get<float>());
      }
      epochs[j["epoch_end"].get<int64_t>()] = std::move(e);
    }
  }

  std::map<int64_t, int64_t> steps_in_epoch, last_step_of_epoch;
  for (const auto& [step, s] : steps) {
    ++steps_in_epoch[s.epoch];
    last_step_of_epoch[s.epoch] = step;
  }
  std::map<int64_t, double> epoch_start;  // seconds after the run's start
  double elapsed = 0;
  for (const auto& [epoch, e] : epochs) {
    epoch_start[epoch] = elapsed;
    elapsed += e.seconds;
  }
  const auto seconds_of = [&](int64_t epoch) {
    const auto it = epochs.find(epoch);
    return it == epochs.end() ? 0.0 : it->second.seconds;
  };

  std::string file;
  std::string first;
  protobuf::double_field(first, 1, static_cast<double>(start));
  protobuf::bytes_field(first, 3, "brain.Event:2");
  append_tfrecord(file, first);
  std::map<int64_t, int64_t> seen_in_epoch;
  for (const auto& [step, s] : steps) {
    const int64_t k = ++seen_in_epoch[s.epoch];
    const double t = static_cast<double>(start) + epoch_start[s.epoch] +
                     seconds_of(s.epoch) * static_cast<double>(k) / static_cast<double>(steps_in_epoch[s.epoch]);
    if (!s.scalars.empty()) append_tfrecord(file, event(t, step, s.scalars));
    if (step == last_step_of_epoch[s.epoch] && epochs.count(s.epoch) && !epochs[s.epoch].scalars.empty()) {
      append_tfrecord(file, event(t, step, epochs[s.epoch].scalars));
    }
  }

  const fs::path dir = logdir / run_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_user("--tensorboard: cannot write ", logdir.string(), " (", ec.message(), ")");
  const fs::path path = dir / ("events.out.tfevents." + std::to_string(start) + ".thaw");
  write_file_atomic(path, std::string_view(file));
  return path;
}

}  // namespace thaw
