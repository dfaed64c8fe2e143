#include "engine/train/metrics_log.h"

#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/model/state_hash.h"

namespace thaw {

// nlohmann::json (not ordered_json): its keys are written sorted, as metrics.jsonl always had them.
MetricsLog::MetricsLog(const std::filesystem::path& dir, bool append)
    : path_(dir / "metrics.jsonl"), out_(path_, append ? std::ios::app : std::ios::trunc) {
  if (!out_) fail_user("cannot write ", path_.string());
}

void MetricsLog::step(int64_t step, int64_t epoch, double lr, double loss) {
  const nlohmann::json line = {
      {"step", step}, {"epoch", epoch}, {"lr", lr}, {"loss", loss}, {"loss_bits", double_bits_hex(loss)}};
  out_ << line.dump() << '\n';
  check_written();
}

// A full disk makes the stream fail quietly; the run stops with one line rather than leave a
// shorter log than the run it describes.
void MetricsLog::check_written() {
  if (!out_) fail_user("cannot write ", path_.string(), ": the disk may be full");
}

void MetricsLog::epoch_end(const EpochResult& e) {
  const nlohmann::json line = {{"epoch_end", e.epoch},       {"train_loss", e.train_loss},
                               {"seconds", e.seconds},       {"images_per_s", e.images_per_s},
                               {"val_loss", e.val_loss},     {"val_accuracy", e.val_accuracy},
                               {"val_balanced_accuracy", e.val_balanced_accuracy},
                               {"val_auc", e.val_auc},       {"eval_seconds", e.eval_seconds}};
  out_ << line.dump() << '\n' << std::flush;
  check_written();
}

std::vector<EpochResult> read_epochs_before(const std::filesystem::path& run_dir, int64_t first_epoch) {
  std::vector<EpochResult> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("epoch_end") || !j["epoch_end"].is_number_integer()) continue;
    EpochResult e;
    e.epoch = j["epoch_end"].get<int64_t>();
    if (e.epoch >= first_epoch) continue;
    // A NaN was written as null; fields of older logs are missing.
    const auto number = [&](const char* key, double missing) {
      const auto it = j.find(key);
      if (it == j.end()) return missing;
      return it->is_number() ? it->get<double>() : std::numeric_limits<double>::quiet_NaN();
    };
    e.train_loss = number("train_loss", 0.0);
    e.seconds = number("seconds", 0.0);
    e.images_per_s = number("images_per_s", 0.0);
    e.val_loss = number("val_loss", 0.0);
    e.val_accuracy = number("val_accuracy", -1.0);
    e.val_balanced_accuracy = number("val_balanced_accuracy", -1.0);
    e.val_auc = number("val_auc", -1.0);
    out.push_back(e);
  }
  return out;
}

}  // namespace thaw
