// `thaw data check DATA`: what a dataset holds before any training: counts per class and split,
// image formats and sizes, files with identical bytes, groups that cross splits, and every file
// that cannot be read. Exit 0 when everything reads (warnings included), 2 when a file does not.
#include <algorithm>
#include <array>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/sha256.h"
#include "io/datasets.h"
#include "io/image_decode.h"
#include "io/image_facts.h"
#include "io/pack_dataset.h"
#include "io/folds.h"
#include "io/left_out_files.h"
#include "io/split.h"

namespace thaw::cli {

namespace {

struct DataCheckArgs {
  std::string data;
  double val_fraction = 0;
  int folds = 0;
  uint64_t seed = 0;
  int threads = 0;
  int64_t max_image_pixels = kMaxImagePixels;
  std::string window;
  int64_t dicom_frame = 0;
};

constexpr int kSplits = 3;
constexpr size_t kMaxListed = 20;  // lines per kind of finding; the count is always printed

void print_counts(std::ostream& os, const std::vector<std::string>& classes,
                  const std::vector<std::array<int64_t, kSplits>>& counts) {
  size_t width = 5;
  for (const std::string& c : classes) width = std::max(width, c.size());
  os << "counts per class and split:\n  " << std::left << std::setw(static_cast<int>(width)) << "class" << std::right;
  for (const char* h : {"train", "val", "test", "total"}) os << std::setw(8) << h;
  os << '\n';
  std::array<int64_t, kSplits> sums{};
  for (size_t c = 0; c <= classes.size(); ++c) {
    const bool total_row = c == classes.size();
    const std::array<int64_t, kSplits>& row = total_row ? sums : counts[c];
    os << "  " << std::left << std::setw(static_cast<int>(width)) << (total_row ? "total" : classes[c]) << std::right;
    int64_t all = 0;
    for (int s = 0; s < kSplits; ++s) {
      os << std::setw(8) << row[s];
      all += row[s];
      if (!total_row) sums[s] += row[s];
    }
    os << std::setw(8) << all << '\n';
  }
}

int64_t median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print_sizes(std::ostream& os, const std::vector<ImageFacts>& facts) {
  std::vector<int64_t> w, h;
  std::map<std::pair<int64_t, int64_t>, int64_t> sizes;
  std::map<std::string, int64_t> formats;
  for (const ImageFacts& f : facts) {
    if (!f.error.empty()) continue;
    w.push_back(f.width);
    h.push_back(f.height);
    ++sizes[{f.width, f.height}];
    ++formats[f.format];
  }
  if (w.empty()) return;
  os << "formats:";
  for (const auto& [name, n] : formats) os << ' ' << name << ' ' << n;
  os << "\nimage sizes: width min " << *std::min_element(w.begin(), w.end()) << ", median " << median(w) << ", max "
     << *std::max_element(w.begin(), w.end()) << "; height min " << *std::min_element(h.begin(), h.end())
     << ", median " << median(h) << ", max " << *std::max_element(h.begin(), h.end()) << "; " << sizes.size()
     << " distinct size" << (sizes.size() == 1 ? "" : "s");
  std::vector<std::pair<int64_t, std::pair<int64_t, int64_t>>> common;
  for (const auto& [wh, n] : sizes) common.push_back({-n, wh});
  std::sort(common.begin(), common.end());
  os << " (most common:";
  for (size_t i = 0; i < std::min<size_t>(3, common.size()); ++i) {
    os << (i ? ", " : " ") << common[i].second.first << "x" << common[i].second.second << " " << -common[i].first;
  }
  os << ")\n";
}

// Returns the number of duplicate sets whose files lie in more than one split.
int64_t print_duplicates(std::ostream& os, const ImageManifest& m, const std::vector<ImageFacts>& facts) {
  std::map<std::pair<uint64_t, uint64_t>, std::vector<size_t>> by_hash;
  for (size_t i = 0; i < facts.size(); ++i) {
    if (facts[i].error.empty()) by_hash[{facts[i].hash_high, facts[i].hash_low}].push_back(i);
  }
  std::vector<const std::vector<size_t>*> sets;
  int64_t files = 0, crossing = 0;
  for (const auto& [hash, members] : by_hash) {
    if (members.size() < 2) continue;
    sets.push_back(&members);
    files += static_cast<int64_t>(members.size());
  }
  // In the order of their first file in the data, not of their hashes.
  std::sort(sets.begin(), sets.end(), [](const auto* a, const auto* b) { return a->front() < b->front(); });
  if (sets.empty()) {
    os << "duplicates: none (XXH3-128 of the file bytes)\n";
    return 0;
  }
  os << "duplicates: " << sets.size() << " set" << (sets.size() == 1 ? "" : "s") << " of identical files, " << files
     << " files (XXH3-128 of the file bytes)\n";
  for (size_t k = 0; k < sets.size(); ++k) {
    std::ostringstream line;
    bool spans = false;
    for (size_t j = 0; j < sets[k]->size(); ++j) {
      const ImageRecord& r = m.records[(*sets[k])[j]];
      spans |= r.split != m.records[(*sets[k])[0]].split;
      line << (j ? ", " : "  ") << r.path.string() << " (" << split_name(r.split) << ", "
           << m.class_names[r.label] << ")";
    }
    crossing += spans;
    if (k < kMaxListed) os << line.str() << '\n';
  }
  if (sets.size() > kMaxListed) os << "  ... and " << sets.size() - kMaxListed << " more sets\n";
  return crossing;
}

void print_groups(std::ostream& os, const ImageManifest& m) {
  if (!m.has_group_column) {
    os << "groups: none given (every image is its own group)\n";
    return;
  }
  std::map<std::string, int64_t> sizes;
  int64_t ungrouped = 0;
  for (const ImageRecord& r : m.records) {
    if (r.group.empty()) {
      ++ungrouped;
    } else {
      ++sizes[r.group];
    }
  }
  os << "groups: " << sizes.size() << " named";
  if (ungrouped) os << ", " << ungrouped << " images without a group (each its own)";
  os << '\n';
  const std::vector<GroupCrossing> cross = groups_crossing_splits(m);
  for (size_t i = 0; i < cross.size() && i < kMaxListed; ++i) {
    os << "warning: group '" << cross[i].group << "' (" << cross[i].records << " images) is in";
    for (size_t s = 0; s < cross[i].splits.size(); ++s) {
      os << (s ? (s + 1 == cross[i].splits.size() ? " and " : ", ") : " ") << split_name(cross[i].splits[s]);
    }
    os << ": its images leak between splits\n";
  }
  if (cross.size() > kMaxListed) os << "warning: ... and " << cross.size() - kMaxListed << " more groups cross splits\n";
  if (!cross.empty()) os << "warning: " << cross.size() << " group" << (cross.size() == 1 ? "" : "s") << " cross splits\n";
}

void check_idx(const DataCheckArgs& a, std::ostream& os) {
  const auto train = open_dataset(a.data, DataSplit::Train, {});
  const auto test = open_dataset(a.data, DataSplit::Test, {});
  os << "data: " << a.data << " (IDX files: train and test, no validation split)\n";
  std::vector<std::array<int64_t, kSplits>> counts(static_cast<size_t>(train->num_classes()));
  for (const auto& [d, s] : {std::pair{train.get(), 0}, std::pair{test.get(), 2}}) {
    for (int64_t i = 0; i < d->size(); ++i) {
      const int32_t l = d->label(i);
      if (l >= 0 && l < static_cast<int32_t>(counts.size())) ++counts[l][s];
    }
  }
  print_counts(os, train->class_names(), counts);
  os << train->describe() << '\n' << test->describe() << '\n';
}

// The k-fold assignment `thaw sweep --folds K` and `thaw train --folds K --fold I` make of this
// data (io/folds.h), per class and fold, so that a user sees the folds before training on them.
void print_folds(std::ostream& os, const ImageManifest& m, const std::vector<int>& fold_of, int folds, uint64_t seed) {
  std::vector<std::vector<int64_t>> counts(m.class_names.size(), std::vector<int64_t>(static_cast<size_t>(folds), 0));
  std::vector<std::set<std::string>> groups(static_cast<size_t>(folds));
  for (size_t i = 0; i < m.records.size(); ++i) {
    ++counts[static_cast<size_t>(m.records[i].label)][static_cast<size_t>(fold_of[i])];
    groups[static_cast<size_t>(fold_of[i])].insert(group_key(m.records[i]));
  }
  size_t width = 5;
  for (const std::string& c : m.class_names) width = std::max(width, c.size());
  os << "--folds " << folds << " (seed " << seed << "; each fold in turn is the test split, every image in one fold):\n  "
     << std::left << std::setw(static_cast<int>(width)) << "class" << std::right;
  for (int f = 0; f < folds; ++f) os << std::setw(8) << ("fold " + std::to_string(f));
  os << '\n';
  std::vector<int64_t> sums(static_cast<size_t>(folds), 0);
  for (size_t c = 0; c < m.class_names.size(); ++c) {
    os << "  " << std::left << std::setw(static_cast<int>(width)) << m.class_names[c] << std::right;
    for (size_t f = 0; f < sums.size(); ++f) {
      os << std::setw(8) << counts[c][f];
      sums[f] += counts[c][f];
    }
    os << '\n';
  }
  os << "  " << std::left << std::setw(static_cast<int>(width)) << "total" << std::right;
  for (int64_t n : sums) os << std::setw(8) << n;
  os << "\n  " << std::left << std::setw(static_cast<int>(width)) << "groups" << std::right;
  for (const auto& g : groups) os << std::setw(8) << g.size();
  os << '\n';
}

// A pack holds no files to decode: what can go wrong is a stored sample whose bytes are no longer
// those `thaw pack` wrote, so every sample's pixels are hashed again against pack.json.
void check_pack(const DataCheckArgs& a, std::ostream& os) {
  const std::shared_ptr<const PackData> data = PackData::open(a.data);
  const PackManifest& m = data->manifest;
  DataOptions opt;
  opt.val_fraction = a.val_fraction;
  opt.seed = a.seed;
  os << "data: " << a.data << " (a pack of " << m.samples.size() << " images, " << m.class_names.size()
     << " classes, made from " << m.source << " for --input-size " << m.input_size << ", shorter side stored at "
     << m.side;
  if (a.val_fraction != 0) os << "; validation split " << a.val_fraction << " from seed " << a.seed;
  os << ")\n";
  std::vector<std::array<int64_t, kSplits>> counts(m.class_names.size());
  for (const DataSplit split : {DataSplit::Train, DataSplit::Val, DataSplit::Test}) {
    const PackDataset d(data, split, opt);
    for (int64_t i = 0; i < d.size(); ++i) ++counts[static_cast<size_t>(d.label(i))][static_cast<int>(split)];
  }
  print_counts(os, m.class_names, counts);

  std::map<std::string, std::vector<size_t>> by_source;
  for (size_t i = 0; i < m.samples.size(); ++i) by_source[m.samples[i].source_sha256].push_back(i);
  int64_t sets = 0;
  for (const auto& [hash, members] : by_source) {
    if (members.size() < 2) continue;
    if (static_cast<size_t>(sets) < kMaxListed) {
      os << "duplicate source files:";
      for (size_t j = 0; j < members.size(); ++j) os << (j ? ", " : " ") << m.samples[members[j]].path;
      os << '\n';
    }
    ++sets;
  }
  os << "duplicates: " << (sets == 0 ? std::string("none") : std::to_string(sets) + " sets") << " (SHA-256 of the source files)\n";
  if (!m.skipped.empty()) {
    os << "left out when packed: " << m.skipped.size() << " files\n";
    for (size_t i = 0; i < m.skipped.size() && i < kMaxListed; ++i) os << "  " << m.skipped[i] << '\n';
  }

  const int64_t n = static_cast<int64_t>(m.samples.size());
  std::vector<char> bad(m.samples.size(), 0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) bad[i] = sha256_hex(data->pixels(static_cast<size_t>(i))) != m.samples[i].sha256;
  int64_t corrupt = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!bad[i]) continue;
    if (static_cast<size_t>(corrupt) < kMaxListed) {
      os << "corrupt: " << m.samples[i].path << ": its stored pixels (shard " << m.shards[m.samples[i].shard].file
         << ") no longer match the SHA-256 in pack.json\n";
    }
    ++corrupt;
  }
  os << std::flush;
  if (corrupt > 0) {
    fail_user(a.data, ": ", corrupt, " of ", n, " packed images are corrupt; pack the data again with thaw pack");
  }
  os << "all " << n << " packed images match their SHA-256\n";
}

void run_data_check(const DataCheckArgs& a) {
  check_threads(a.threads);
  std::ostream& os = std::cout;
  if (is_pack_dir(a.data)) {
    check_pack(a, os);
    return;
  }
  if (a.folds != 0 && (is_pack_dir(a.data) || !is_image_data(a.data))) {
    fail_user("--folds: thaw data check shows the folds of a folder of class folders or a CSV manifest; ",
              is_pack_dir(a.data) ? "give the one this pack was made from (a pack's folds are the same)"
                                  : "IDX data has fixed train and test files");
  }
  if (!is_image_data(a.data)) {
    if (a.val_fraction != 0) fail_user("--val-fraction: not supported for IDX data (", a.data, ")");
    check_idx(a, os);
    return;
  }
  DataOptions opt;
  opt.val_fraction = a.val_fraction;
  opt.seed = a.seed;
  const ImageManifest m = open_image_manifest(a.data, opt);
  // Before any decoding: a folds count the data cannot take is one line, not the end of a long check.
  const std::vector<int> fold_of = a.folds != 0 ? assign_folds(m, a.folds, a.seed) : std::vector<int>{};
  os << "data: " << m.source << " (" << m.records.size() << " images, " << m.class_names.size() << " classes";
  if (a.val_fraction != 0) os << "; validation split " << a.val_fraction << " from seed " << a.seed;
  os << ")\n";
  std::vector<std::array<int64_t, kSplits>> counts(m.class_names.size());
  for (const ImageRecord& r : m.records) ++counts[r.label][static_cast<int>(r.split)];
  print_counts(os, m.class_names, counts);

  const PixelMapping mapping = pixel_mapping_of(a.window, a.dicom_frame);
  const int64_t n = static_cast<int64_t>(m.records.size());
  std::vector<ImageFacts> facts(m.records.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) facts[i] = inspect_image_file(m.records[i].path, a.max_image_pixels, mapping);
  print_sizes(os, facts);
  const int64_t dup_crossing = print_duplicates(os, m, facts);
  if (dup_crossing > 0) {
    os << "warning: " << dup_crossing << " set" << (dup_crossing == 1 ? "" : "s")
       << " of identical files lie in more than one split\n";
  }
  print_groups(os, m);
  warn_left_out_files(a.data, os);
  if (a.folds != 0) print_folds(os, m, fold_of, a.folds, a.seed);

  int64_t unreadable = 0;
  for (const ImageFacts& f : facts) {
    if (f.error.empty()) continue;
    if (static_cast<size_t>(unreadable) < kMaxListed) os << "unreadable: " << f.error << '\n';
    ++unreadable;
  }
  os << std::flush;
  if (unreadable > 0) {
    fail_user(a.data, ": ", unreadable, " of ", n, " images cannot be read",
              static_cast<size_t>(unreadable) > kMaxListed ? " (the first 20 are listed on stdout)" : " (listed on stdout)");
  }
  os << "all " << n << " images read\n";
}

}  // namespace

void add_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Inspect datasets");
  data->require_subcommand(1);
  auto a = std::make_shared<DataCheckArgs>();
  CLI::App* check = data->add_subcommand(
      "check", "Counts per class and split, image sizes, duplicate files, groups across splits, unreadable files");
  check->add_option("DATA", a->data, "A folder of class folders, a .csv manifest, a pack (thaw pack), or IDX data")->required();
  check->add_option("--val-fraction", a->val_fraction, "Carve a validation split out of train, as thaw train would")->check(in_range(fraction_range()));
  check->add_option("--folds", a->folds, "Also show the k-fold assignment thaw sweep --folds K would make")->check(in_range(whole(2, 1000)));
  check->add_option("--seed", a->seed, "Seed of that split")->capture_default_str()->check(in_range(seed_range()));
  check->add_option("--threads", a->threads, "CPU threads (0: all cores)")->capture_default_str()->check(in_range(threads_range()));
  add_max_image_pixels_flag(check, a->max_image_pixels);
  add_pixel_mapping_flags(check, a->window, a->dicom_frame);
  check->callback([a] { run_data_check(*a); });
}

}  // namespace thaw::cli
