#include "engine/run/train_device.h"

#include "core/error.h"
#include "engine/gpu/cuda_device.h"

namespace thaw {

void check_train_device(const RunConfig& c) {
  if (c.device != "cpu" && c.device != "cuda") fail_user("--device: expected cpu or cuda, got '", c.device, "'");
  if (c.precision == "bf16") fail_user("--precision bf16: not built yet; fp32, and tf32 with --device cuda, are");
  if (c.precision != "fp32" && c.precision != "tf32") {
    fail_user("--precision: expected fp32, tf32 or bf16, got '", c.precision, "'");
  }
  if (c.precision == "tf32" && c.device != "cuda") {
    fail_user("--precision tf32: TF32 is a GPU tensor-core mode; give --device cuda (the CPU computes in fp32)");
  }
  if (c.device == "cuda") require_cuda_device();
}

void apply_train_device(TrainConfig& cfg, const RunConfig& c, std::ostream& note) {
  cfg.cuda = c.device == "cuda";
  cfg.tf32 = c.precision == "tf32";
  if (!cfg.cuda) return;
  if ((cfg.cache_train || cfg.cache_eval) && c.freeze_through != "none") {
    note << "thaw: --device cuda: the feature cache is not on the GPU path yet; training without it\n";
  }
  cfg.cache_train = cfg.cache_eval = false;
}

}  // namespace thaw
