#include "io/folds.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>

#include "core/error.h"
#include "core/philox.h"
#include "io/group_rank.h"

namespace thaw {

namespace {

struct Group {
  std::string key;
  uint64_t rank = 0;
  std::vector<size_t> records;
  std::vector<int64_t> per_class;
};

// How much further from the targets the fold's per-class counts get with the group in it. Counts
// are scaled by K so that the target count/K stays an integer.
int64_t cost_of_adding(const std::vector<int64_t>& fold, const Group& g, const std::vector<int64_t>& class_count,
                       int64_t k) {
  int64_t d = 0;
  for (size_t c = 0; c < fold.size(); ++c) {
    if (g.per_class[c] == 0) continue;
    d += std::abs(k * (fold[c] + g.per_class[c]) - class_count[c]) - std::abs(k * fold[c] - class_count[c]);
  }
  return d;
}

}  // namespace

std::vector<int> assign_folds(const ImageManifest& m, int folds, uint64_t seed) {
  if (folds < 2) fail_user("--folds: expected 2 or more folds, got ", folds);
  const size_t classes = m.class_names.size();
  std::map<std::string, Group> groups;
  std::vector<int64_t> class_count(classes, 0), class_groups(classes, 0);
  for (size_t i = 0; i < m.records.size(); ++i) {
    const ImageRecord& r = m.records[i];
    Group& g = groups[group_key(r)];
    if (g.per_class.empty()) g.per_class.assign(classes, 0);
    g.records.push_back(i);
    if (g.per_class[r.label]++ == 0) ++class_groups[r.label];
    ++class_count[r.label];
  }
  for (size_t c = 0; c < classes; ++c) {
    if (class_count[c] > 0 && class_groups[c] < folds) {
      fail_user("--folds ", folds, ": class '", m.class_names[c], "' of ", m.source, " is in ", class_groups[c],
                m.has_group_column ? " group(s)" : " image(s)", ", fewer than the folds, so some fold would test none "
                "of it; give --folds ", class_groups[c], " or fewer");
    }
  }
  const CounterRng rng(seed, RngPurpose::Folds, 0, 0);
  std::vector<Group*> order;
  for (auto& [key, g] : groups) {
    g.key = key;
    g.rank = group_rank(rng, key);
    order.push_back(&g);
  }
  // Largest first, as in bin packing: small groups placed last can still even out the counts.
  std::sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    if (a->records.size() != b->records.size()) return a->records.size() > b->records.size();
    return a->rank != b->rank ? a->rank < b->rank : a->key < b->key;
  });
  const int64_t k = folds;
  std::vector<std::vector<int64_t>> count(static_cast<size_t>(folds), std::vector<int64_t>(classes, 0));
  std::vector<int64_t> size(static_cast<size_t>(folds), 0);
  std::vector<int> fold_of(m.records.size(), 0);
  for (const Group* g : order) {
    size_t best = 0;
    int64_t best_cost = 0;
    for (size_t f = 0; f < count.size(); ++f) {
      const int64_t cost = cost_of_adding(count[f], *g, class_count, k);
      if (f == 0 || cost < best_cost || (cost == best_cost && size[f] < size[best])) {
        best = f;
        best_cost = cost;
      }
    }
    for (size_t c = 0; c < classes; ++c) count[best][c] += g->per_class[c];
    size[best] += static_cast<int64_t>(g->records.size());
    for (size_t i : g->records) fold_of[i] = static_cast<int>(best);
  }
  return fold_of;
}

void apply_fold(ImageManifest& m, int folds, int fold, uint64_t seed) {
  if (fold < 0 || fold >= folds) {
    fail_user("--fold: expected a fold from 0 to ", folds - 1, " (of --folds ", folds, "), got ", fold);
  }
  const std::vector<int> fold_of = assign_folds(m, folds, seed);
  for (size_t i = 0; i < m.records.size(); ++i) {
    m.records[i].split = fold_of[i] == fold ? DataSplit::Test : DataSplit::Train;
  }
}

}  // namespace thaw
