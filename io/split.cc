#include "io/split.h"

#include <algorithm>
#include <cmath>
#include <bit>
#include <map>

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

int64_t distance(const std::vector<int64_t>& have, const std::vector<int64_t>& target) {
  int64_t d = 0;
  for (size_t c = 0; c < have.size(); ++c) d += std::abs(have[c] - target[c]);
  return d;
}

}  // namespace

void split_off_validation(ImageManifest& m, double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction < 1)) fail_user("--val-fraction: expected a value in (0, 1), got ", fraction);
  for (const ImageRecord& r : m.records) {
    if (r.split == DataSplit::Val) {
      fail_user("--val-fraction: ", m.source, " already names a validation split (line ", r.line,
                "); drop --val-fraction or the val rows");
    }
  }
  const size_t classes = m.class_names.size();
  std::map<std::string, Group> groups;
  std::vector<int64_t> class_count(classes, 0);
  for (size_t i = 0; i < m.records.size(); ++i) {
    const ImageRecord& r = m.records[i];
    if (r.split != DataSplit::Train) continue;
    Group& g = groups[group_key(r)];
    if (g.per_class.empty()) g.per_class.assign(classes, 0);
    g.records.push_back(i);
    ++g.per_class[r.label];
    ++class_count[r.label];
  }
  const CounterRng rng(seed, RngPurpose::Split, 0, 0);
  std::vector<Group*> order;
  for (auto& [key, g] : groups) {
    g.key = key;
    g.rank = group_rank(rng, key);
    order.push_back(&g);
  }
  std::sort(order.begin(), order.end(),
            [](const Group* a, const Group* b) { return a->rank != b->rank ? a->rank < b->rank : a->key < b->key; });
  std::vector<int64_t> target(classes), val(classes, 0), with(classes);
  for (size_t c = 0; c < classes; ++c) target[c] = std::llround(fraction * static_cast<double>(class_count[c]));
  for (const Group* g : order) {
    for (size_t c = 0; c < classes; ++c) with[c] = val[c] + g->per_class[c];
    if (distance(with, target) < distance(val, target)) {
      val = with;
      for (size_t i : g->records) m.records[i].split = DataSplit::Val;
    }
  }
}

std::vector<GroupCrossing> groups_crossing_splits(const ImageManifest& m) {
  std::map<std::string, std::pair<int, int64_t>> seen;  // group -> (bit set of splits, records)
  for (const ImageRecord& r : m.records) {
    if (r.group.empty()) continue;
    auto& [bits, n] = seen[r.group];
    bits |= 1 << static_cast<int>(r.split);
    ++n;
  }
  std::vector<GroupCrossing> out;
  for (const auto& [group, info] : seen) {
    if (std::popcount(static_cast<unsigned>(info.first)) < 2) continue;
    GroupCrossing g{group, {}, info.second};
    for (DataSplit s : {DataSplit::Train, DataSplit::Val, DataSplit::Test}) {
      if (info.first & (1 << static_cast<int>(s))) g.splits.push_back(s);
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace thaw
