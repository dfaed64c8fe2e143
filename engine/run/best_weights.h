#pragma once
// best.safetensors: the weights of a run's best epoch by --select (engine/train/best_epoch.h),
// rewritten (a temporary file, then a rename) each time an epoch improves on the best. Its metadata
// names the epoch, the metric, its value and the state's SHA-256, from which the record's "best"
// is made and which replay checks.
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/train/best_epoch.h"
#include "engine/train/epoch_observer.h"
#include "graph/graph.h"

namespace thaw {

inline constexpr const char* kBestWeightsName = "best.safetensors";

class BestWeightsWriter final : public EpochObserver {
 public:
  // `metadata`: what weights.safetensors also carries (class names, freeze point, seed).
  BestWeightsWriter(std::filesystem::path dir, const Graph& g, SelectMetric metric,
                    std::map<std::string, std::string> metadata);
  void on_epoch_end(const EpochResult& e, bool best, const ModelState<float>& state) override;

 private:
  std::filesystem::path dir_;
  const Graph& g_;
  SelectMetric metric_;
  std::map<std::string, std::string> metadata_;
};

// Replay's check of the record's "best": at the end of that epoch, the replayed state's SHA-256
// against the one recorded when best.safetensors was written.
class BestStateCheck final : public EpochObserver {
 public:
  BestStateCheck(const Graph& g, const nlohmann::ordered_json& best);
  void on_epoch_end(const EpochResult& e, bool best, const ModelState<float>& state) override;
  // "" until that epoch is replayed; then a line saying whether the state matched.
  const std::string& verdict() const { return verdict_; }
  bool matched() const { return matched_; }

 private:
  const Graph& g_;
  int64_t epoch_ = 0;  // from 1
  std::string want_;
  std::string verdict_;
  bool matched_ = false;
};

// The record's "best" ({"epoch" (from 1), "metric", "value", "state_sha256", "weights_file",
// "weights_file_sha256"}) from `dir`/best.safetensors; null where there is none.
nlohmann::ordered_json best_record(const std::filesystem::path& dir);

}  // namespace thaw
