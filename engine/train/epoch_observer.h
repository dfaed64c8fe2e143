#pragma once
// What is told of each epoch's end (after its held-out evaluation): the writer of best.safetensors
// (engine/run/best_weights.h) and replay's check of it. The loop itself writes no files.
#include "engine/model/model_state.h"
#include "engine/train/metrics_log.h"

namespace thaw {

class EpochObserver {
 public:
  virtual ~EpochObserver() = default;
  // `best`: the epoch is the best so far by --select (engine/train/best_epoch.h).
  virtual void on_epoch_end(const EpochResult& e, bool best, const ModelState<float>& state) = 0;
};

}  // namespace thaw
