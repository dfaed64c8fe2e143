#pragma once
// The training options the freeze-depth studies added to a run (RunConfig::augment,
// feature_cache, feature_cache_mb), turned into what the trainer uses.
#include <string_view>

#include "engine/run/run_config.h"
#include "engine/train/trainer.h"

namespace thaw {

enum class Augment { Random, None };
// "random" or "none"; anything else is a UserError naming --augment.
Augment parse_augment(std::string_view s);

// TrainConfig's feature-cache fields from --feature-cache auto|off and --feature-cache-mb:
// evaluation always uses the cache (its pixels never change); training batches do when theirs
// never change either: --augment none, or IDX data (which has no augmentation).
void set_feature_cache(TrainConfig& cfg, const RunConfig& c);

}  // namespace thaw
