#pragma once
// Which samples the GPU feature cache (engine/gpu/gpu_feature_cache.h) holds, and in which row of
// its device store: rows are handed out in first-seen order up to a capacity; a sample that finds
// the store full is never held and runs through the frozen part every time. Plain C++: tested on
// the CPU.
#include <cstdint>
#include <span>
#include <unordered_map>

namespace thaw {

class CacheSlots {
 public:
  explicit CacheSlots(int64_t capacity) : capacity_(capacity < 0 ? 0 : capacity) {}
  // The sample's row, -1 where it is not held.
  int64_t slot(int64_t sample) const {
    const auto it = slot_.find(sample);
    return it == slot_.end() ? -1 : it->second;
  }
  // The sample's row, a new one while there is room; -1 when it is not held and the store is full.
  int64_t admit(int64_t sample) {
    const int64_t held = slot(sample);
    if (held >= 0 || used() >= capacity_) return held;
    const int64_t row = used();
    slot_.emplace(sample, row);
    return row;
  }
  // Whether every sample is held (false for none: there is nothing to read back).
  bool holds_all(std::span<const int64_t> samples) const {
    if (samples.empty()) return false;
    for (int64_t s : samples) {
      if (slot(s) < 0) return false;
    }
    return true;
  }
  int64_t used() const { return static_cast<int64_t>(slot_.size()); }
  int64_t capacity() const { return capacity_; }

 private:
  int64_t capacity_;
  std::unordered_map<int64_t, int64_t> slot_;
};

}  // namespace thaw
