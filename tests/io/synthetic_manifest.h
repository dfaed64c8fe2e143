#pragma once
// A made-up image manifest for the split and fold tests: no files, only records.
#include <cmath>
#include <string>

#include "core/philox.h"
#include "io/image_manifest.h"

namespace thaw::testing {

// n records over `classes` classes, in groups of 1..max_group records (mixed classes within a group
// when mixed is set), ids drawn from a fixed generator so the test data is the same every run.
inline ImageManifest synthetic(int64_t n, int classes, int max_group, bool mixed) {
  ImageManifest m;
  m.source = "synthetic.csv";
  for (int c = 0; c < classes; ++c) m.class_names.push_back("c" + std::to_string(c));
  const CounterRng rng(99, RngPurpose::Synthetic, 0, 0);
  int64_t i = 0, g = 0;
  while (i < n) {
    const int size = 1 + static_cast<int>(rng.uniform_double_at(2 * g) * max_group);
    // Skewed classes: class c has weight c + 1.
    const int base = static_cast<int>(std::sqrt(rng.uniform_double_at(2 * g + 1)) * classes);
    for (int k = 0; k < size && i < n; ++k, ++i) {
      ImageRecord r;
      r.path = "img" + std::to_string(i) + ".jpg";
      r.group = max_group > 1 ? "patient" + std::to_string(g) : "";
      r.label = mixed ? (base + (k % 2)) % classes : base;
      r.line = i + 2;
      m.records.push_back(r);
    }
    ++g;
  }
  return m;
}

}  // namespace thaw::testing
