#include "engine/train/train_config.h"

#include "engine/parallel/shards.h"

namespace thaw {

void validate_shards(const TrainConfig& cfg, const Graph& g) {
  validate_shards(ShardLayout{cfg.batch_size, cfg.shards, cfg.ranks, 0}, g, make_plan(g, cfg.freeze_block, cfg.bn));
}

std::unique_ptr<FeatureCache> make_feature_cache(const Graph& g, const Plan& plan, ModelState<float>& state,
                                                 const TrainConfig& cfg, int64_t epochs) {
  // The GPU step keeps its own (engine/gpu/gpu_feature_cache.h).
  if ((!cfg.cache_train && !cfg.cache_eval) || epochs < 2 || cfg.cuda) return nullptr;
  const int boundary = cache_boundary(g, plan);
  if (boundary < 0) return nullptr;
  FeatureCacheOptions o;
  o.memory_bytes = cfg.cache_memory_bytes;
  o.spill_dir = cfg.cache_dir;
  return std::make_unique<FeatureCache>(g, boundary, state, o);
}

}  // namespace thaw
