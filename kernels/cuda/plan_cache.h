#pragma once
// Plans (cuDNN execution plans, cuBLASLt algorithm choices) built once per problem and kept by the
// Context that owns the handles they were built with. Keys are strings that spell out every field
// the plan depends on, so two problems share a plan only when they are the same problem.
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace thaw::cuda {

class CachedPlan {
 public:
  virtual ~CachedPlan() = default;
  // What was chosen and why, in one line, for device logs.
  virtual std::string describe() const = 0;
  // What was chosen and nothing else ("engine 70 knobs{...}" for a cuDNN plan): the same string
  // for the same choice however it was found, for run records and replay's pins.
  virtual std::string identity() const { return describe(); }
};

class PlanCache {
 public:
  CachedPlan* find(const std::string& key) const {
    auto it = plans_.find(key);
    return it == plans_.end() ? nullptr : it->second.get();
  }
  CachedPlan* insert(const std::string& key, std::unique_ptr<CachedPlan> plan) {
    auto& slot = plans_[key];
    slot = std::move(plan);
    return slot.get();
  }
  size_t size() const { return plans_.size(); }
  // f(key, plan) for every plan, in key order.
  template <typename F>
  void for_each(const F& f) const {
    for (const auto& [key, plan] : plans_) f(key, *plan);
  }
  // Only with no queued work using the plans: Context::clear_plans synchronizes first.
  void clear() { plans_.clear(); }
  // "key: description" per plan, in key order.
  std::vector<std::string> describe_all() const {
    std::vector<std::string> out;
    for (const auto& [key, plan] : plans_) out.push_back(key + ": " + plan->describe());
    return out;
  }
  // "key: identity" per plan, in key order (TrainSummary::gpu_plans, record.json result.gpu_plans).
  std::vector<std::string> identities() const {
    std::vector<std::string> out;
    for (const auto& [key, plan] : plans_) out.push_back(key + ": " + plan->identity());
    return out;
  }

 private:
  std::map<std::string, std::unique_ptr<CachedPlan>> plans_;
};

}  // namespace thaw::cuda
