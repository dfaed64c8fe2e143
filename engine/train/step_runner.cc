#include "engine/train/step_runner.h"

#include "core/error.h"
#include "engine/gpu/cuda_device.h"
#if THAW_HAVE_CUDA
#include "engine/train/cuda_train_step.h"
#endif

namespace thaw {

namespace {

class CpuStepRunner final : public StepRunner {
 public:
  CpuStepRunner(const Graph& g, const Plan& plan, ModelState<float>& state, const TrainConfig& cfg)
      : step_(g, plan, state, cfg) {}
  double run(const StepBatch& batch, int64_t step, double lr) override { return step_.run(batch, step, lr); }
  Optimizer<float>& optimizer() override { return step_.optimizer(); }
  std::span<const ParamRef<float>> params() const override { return step_.params(); }
  const ShardLayout& layout() const override { return step_.layout(); }

 private:
  TrainStep step_;
};

}  // namespace

std::unique_ptr<StepRunner> make_step_runner(const Graph& g, const Plan& plan, ModelState<float>& state,
                                             const TrainConfig& cfg) {
  if (!cfg.cuda) return std::make_unique<CpuStepRunner>(g, plan, state, cfg);
  if (cfg.ranks != 1 && cfg.gpu_comm == nullptr) {
    fail_user("--device cuda with --ranks ", cfg.ranks, ": GPU ranks run one per GPU; name them with --devices "
              "(e.g. --devices 0,1), or start one process per GPU with mpirun or srun");
  }
  require_cuda_device();
#if THAW_HAVE_CUDA
  return std::make_unique<CudaTrainStep>(g, plan, state, cfg);
#else
  fail_internal("require_cuda_device passed in a build without CUDA");
#endif
}

}  // namespace thaw
