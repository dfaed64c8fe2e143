#include "engine/train_device.h"

#include "core/error.h"
#include "engine/cuda_commands.h"

namespace thaw {

void check_train_device(const RunConfig& c) {
  if (c.device != "cpu" && c.device != "cuda") fail_user("--device: expected cpu or cuda, got '", c.device, "'");
  if (c.device == "cuda") require_cuda_device();
}

void apply_train_device(TrainConfig& cfg, const RunConfig& c, std::ostream& note) {
  cfg.cuda = c.device == "cuda";
  if (!cfg.cuda) return;
  if ((cfg.cache_train || cfg.cache_eval) && c.freeze_through != "none") {
    note << "thaw: --device cuda: the feature cache is not on the GPU path yet; training without it\n";
  }
  cfg.cache_train = cfg.cache_eval = false;
}

}  // namespace thaw
