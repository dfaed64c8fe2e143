#include "engine/run/best_weights.h"

#include <charconv>
#include <iostream>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/model/state_hash.h"
#include "engine/model/weights_io.h"
#include "io/safetensors.h"

namespace thaw {

BestWeightsWriter::BestWeightsWriter(std::filesystem::path dir, const Graph& g, SelectMetric metric,
                                     std::map<std::string, std::string> metadata)
    : dir_(std::move(dir)), g_(g), metric_(metric), metadata_(std::move(metadata)) {}

void BestWeightsWriter::on_epoch_end(const EpochResult& e, bool best, const ModelState<float>& state) {
  if (!best) return;
  std::map<std::string, std::string> meta = metadata_;
  const double value = selected_value(e, metric_);
  meta["thaw_best_epoch"] = std::to_string(e.epoch + 1);
  meta["thaw_select"] = select_metric_name(metric_);
  meta["thaw_best_value"] = nlohmann::json(value).dump();  // shortest text that reads back the same double
  meta["thaw_state_sha256"] = state_sha256(g_, state);
  save_weights(dir_ / kBestWeightsName, g_, state, meta);
  std::cerr << "thaw: epoch " << e.epoch + 1 << " is the best so far (" << meta["thaw_select"] << " "
            << meta["thaw_best_value"] << "): " << (dir_ / kBestWeightsName).string() << "\n";
}

BestStateCheck::BestStateCheck(const Graph& g, const nlohmann::ordered_json& best)
    : g_(g), epoch_(best.at("epoch").get<int64_t>()), want_(best.at("state_sha256").get<std::string>()) {}

void BestStateCheck::on_epoch_end(const EpochResult& e, bool, const ModelState<float>& state) {
  if (e.epoch + 1 != epoch_) return;
  const std::string now = state_sha256(g_, state);
  matched_ = now == want_;
  verdict_ = matched_ ? cat_str("best epoch ", epoch_, ": the state matches best.safetensors' (", now.substr(0, 16), "...)")
                      : cat_str("best epoch ", epoch_, ": state SHA-256 recorded ", want_, ", now ", now);
}

nlohmann::ordered_json best_record(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kBestWeightsName;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return nullptr;
  const SafeTensorsFile f = SafeTensorsFile::read(file);
  const std::map<std::string, std::string>& m = f.metadata();
  const auto field = [&](const char* key) {
    const auto it = m.find(key);
    if (it == m.end()) fail_user(file.string(), ": no \"", key, "\" in its metadata; was it written by thaw?");
    return it->second;
  };
  nlohmann::ordered_json r;
  const std::string epoch = field("thaw_best_epoch");
  int64_t e = 0;
  const auto [end, err] = std::from_chars(epoch.data(), epoch.data() + epoch.size(), e);
  if (err != std::errc() || end != epoch.data() + epoch.size() || e < 1) {
    fail_user(file.string(), ": thaw_best_epoch '", epoch, "' is not an epoch number");
  }
  r["epoch"] = e;
  r["metric"] = field("thaw_select");
  r["value"] = nlohmann::json::parse(field("thaw_best_value"), nullptr, false);
  r["state_sha256"] = field("thaw_state_sha256");
  r["weights_file"] = kBestWeightsName;
  r["weights_file_sha256"] = sha256_file_hex(file);
  return r;
}

}  // namespace thaw
