#include "io/carved_split.h"

#include <vector>

#include "core/error.h"
#include "io/dataset_view.h"
#include "io/image_manifest.h"
#include "io/split.h"

namespace thaw {

std::unique_ptr<Dataset> carve_validation(std::unique_ptr<Dataset> train, DataSplit which, double fraction,
                                          uint64_t seed) {
  THAW_CHECK(which == DataSplit::Train || which == DataSplit::Val, "only train and val are carved");
  ImageManifest m;
  m.source = train->describe();
  m.class_names = train->class_names();
  m.records.resize(static_cast<size_t>(train->size()));
  std::vector<std::string> hashes(m.records.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < train->size(); ++i) hashes[i] = train->content_hash(i);
  for (int64_t i = 0; i < train->size(); ++i) {
    ImageRecord& r = m.records[i];
    r.label = train->label(i);
    // A sample without a stored hash is its own group (named by its index).
    r.group = hashes[i].empty() ? cat_str("#", i) : hashes[i];
  }
  split_off_validation(m, fraction, seed);
  std::vector<int64_t> picked;
  for (size_t i = 0; i < m.records.size(); ++i) {
    if (m.records[i].split == which) picked.push_back(static_cast<int64_t>(i));
  }
  std::string desc = cat_str(train->describe(), which == DataSplit::Val ? ", validation part" : ", training part",
                             " (--val-fraction ", fraction, "): ", picked.size(), " samples");
  return std::make_unique<DatasetView>(std::move(train), std::move(picked), std::vector<int32_t>{},
                                       std::vector<std::string>{}, std::move(desc));
}

}  // namespace thaw
