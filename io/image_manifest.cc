#include "io/image_manifest.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "core/error.h"
#include "io/csv.h"

namespace thaw {

namespace fs = std::filesystem;

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".dcm" ||
         ext == ".dicom";
}

bool is_hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Sorted class names: numerically when all are non-negative integers, else by bytes.
std::vector<std::string> order_classes(std::vector<std::string> names) {
  const bool numeric = std::all_of(names.begin(), names.end(), all_digits);
  std::sort(names.begin(), names.end(), [numeric](const std::string& a, const std::string& b) {
    if (numeric) return std::stoll(a) != std::stoll(b) ? std::stoll(a) < std::stoll(b) : a < b;
    return a < b;
  });
  return names;
}

std::vector<fs::path> sub_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory() && !is_hidden(e.path())) out.push_back(e.path());
  }
  if (ec) fail_user(dir.string(), ": cannot list the folder: ", ec.message());
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return out;
}

// The images of one class folder, at any depth, hidden files and folders left out, in path order.
std::vector<fs::path> class_images(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (is_hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && is_image_name(it->path())) files.push_back(it->path());
  }
  if (ec) fail_user(folder.string(), ": cannot list the folder: ", ec.message());
  if (files.empty()) fail_user(folder.string(), ": class folder holds no ", kImageNames, " images");
  std::sort(files.begin(), files.end());
  return files;
}

// A folder whose sub-folders are all split names (train, val, test and their spellings), train
// among them, each holding class folders: the splits are the user's.
bool is_split_layout(const std::vector<fs::path>& subs) {
  bool train = false;
  for (const fs::path& p : subs) {
    const std::optional<DataSplit> s = parse_split(p.filename().string());
    if (!s) return false;
    train = train || *s == DataSplit::Train;
  }
  return train && !sub_folders(subs.front()).empty();
}

void add_class_folder(ImageManifest& m, const fs::path& folder, int32_t label, DataSplit split) {
  for (fs::path& f : class_images(folder)) {
    ImageRecord r;
    r.path = std::move(f);
    r.label = label;
    r.split = split;
    m.records.push_back(std::move(r));
  }
}

ImageManifest scan_split_folders(const fs::path& dir, const std::vector<fs::path>& split_dirs) {
  ImageManifest m;
  m.source = dir.string();
  m.has_split_column = true;
  std::map<DataSplit, fs::path> by_split;
  for (const fs::path& p : split_dirs) {
    const DataSplit s = *parse_split(p.filename().string());
    if (auto [it, fresh] = by_split.emplace(s, p); !fresh) {
      fail_user(dir.string(), ": ", it->second.filename().string(), " and ", p.filename().string(), " both name the ",
                split_name(s), " split; keep one");
    }
  }
  // The classes are train's; a class folder only val or test has could never be learnt.
  const std::vector<fs::path> train_classes = sub_folders(by_split.at(DataSplit::Train));
  if (train_classes.empty()) fail_user(by_split.at(DataSplit::Train).string(), ": expected one sub-folder of images per class");
  std::map<std::string, int32_t> label_of;
  for (const fs::path& c : train_classes) {
    label_of.emplace(c.filename().string(), static_cast<int32_t>(m.class_names.size()));
    m.class_names.push_back(c.filename().string());
  }
  for (const auto& [split, folder] : by_split) {
    for (const fs::path& c : sub_folders(folder)) {
      const auto it = label_of.find(c.filename().string());
      if (it == label_of.end()) {
        fail_user(c.string(), ": class '", c.filename().string(), "' has no folder in ",
                  by_split.at(DataSplit::Train).string(), ", so no model could learn it; add its training images or "
                  "remove the folder");
      }
      add_class_folder(m, c, it->second, split);
    }
  }
  return m;
}

}  // namespace

std::string group_key(const ImageRecord& r) {
  // A leading NUL keeps the per-file names apart from any group named in a CSV.
  if (!r.group.empty()) return r.group;
  std::string key(1, '\0');
  key += r.path.string();
  return key;
}

ImageManifest scan_image_folder(const fs::path& dir) {
  const std::vector<fs::path> class_dirs = sub_folders(dir);
  if (class_dirs.empty()) {
    fail_user(dir.string(), ": expected one sub-folder of JPEG or PNG images per class (or IDX files), found none");
  }
  if (is_split_layout(class_dirs)) return scan_split_folders(dir, class_dirs);
  ImageManifest m;
  m.source = dir.string();
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    m.class_names.push_back(class_dirs[c].filename().string());
    add_class_folder(m, class_dirs[c], static_cast<int32_t>(c), DataSplit::Train);
  }
  return m;
}

ImageManifest read_csv_manifest(const fs::path& csv, bool require_files) {
  const CsvTable t = read_csv(csv);
  const std::string name = csv.string();
  int path_col = t.column("path");
  if (path_col < 0) path_col = t.column("file");
  const int label_col = t.column("label");
  if (path_col < 0 || label_col < 0) {
    std::string found;
    for (const std::string& h : t.header) {
      if (!found.empty()) found += ',';
      found += h;
    }
    fail_user(name, ": expected a header with columns path (or file) and label, optionally split and group; found: ",
              found);
  }
  const int split_col = t.column("split"), group_col = t.column("group");
  if (t.rows.empty()) fail_user(name, ": no rows after the header");
  ImageManifest m;
  m.source = name;
  m.has_split_column = split_col >= 0;
  m.has_group_column = group_col >= 0;
  const fs::path base = csv.parent_path();
  std::map<std::string, int32_t> label_index;
  for (const auto& row : t.rows) label_index[row[label_col]] = 0;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    if (t.rows[i][label_col].empty()) fail_user(name, ": line ", t.lines[i], ": empty label");
  }
  std::vector<std::string> labels;
  for (const auto& [l, _] : label_index) labels.push_back(l);
  m.class_names = order_classes(std::move(labels));
  for (size_t c = 0; c < m.class_names.size(); ++c) label_index[m.class_names[c]] = static_cast<int32_t>(c);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const std::vector<std::string>& row = t.rows[i];
    const int64_t line = t.lines[i];
    ImageRecord r;
    r.line = line;
    if (row[path_col].empty()) fail_user(name, ": line ", line, ": empty path");
    const fs::path p(row[path_col]);
    r.path = p.is_absolute() ? p : base / p;
    std::error_code ec;
    if (require_files && !fs::is_regular_file(r.path, ec)) {
      fail_user(name, ": line ", line, ": image ", r.path.string(), " not found");
    }
    r.label = label_index.at(row[label_col]);
    if (split_col >= 0) {
      const auto s = parse_split(row[split_col]);
      if (!s) {
        fail_user(name, ": line ", line, ": split '", row[split_col], "' is not one of train, val (or validation), test");
      }
      r.split = *s;
    }
    if (group_col >= 0) r.group = row[group_col];
    m.records.push_back(std::move(r));
  }
  return m;
}

}  // namespace thaw
