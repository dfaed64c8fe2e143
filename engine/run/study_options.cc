#include "engine/run/study_options.h"

#include "core/error.h"
#include "io/datasets.h"

namespace thaw {

Augment parse_augment(std::string_view s) {
  if (s == "random") return Augment::Random;
  if (s == "none") return Augment::None;
  fail_user("--augment: expected random or none, got '", s, "'");
}

void set_feature_cache(TrainConfig& cfg, const RunConfig& c) {
  if (c.feature_cache != "auto" && c.feature_cache != "off") {
    fail_user("--feature-cache: expected auto or off, got '", c.feature_cache, "'");
  }
  if (c.feature_cache_mb < 0) fail_user("--feature-cache-mb: expected 0 or more, got ", c.feature_cache_mb);
  const bool on = c.feature_cache == "auto";
  const bool fixed_pixels = parse_augment(c.augment) == Augment::None || !is_image_data(c.data);
  cfg.cache_eval = on;
  cfg.cache_train = on && fixed_pixels;
  cfg.cache_memory_bytes = c.feature_cache_mb << 20;
  cfg.cache_dir = c.out;
}

}  // namespace thaw
