#include "io/dataset_view.h"

#include <charconv>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace thaw {

DatasetView::DatasetView(std::unique_ptr<Dataset> base, std::vector<int64_t> indices, std::vector<int32_t> label_map,
                         std::vector<std::string> class_names, std::string description, bool no_augment)
    : base_(std::move(base)), indices_(std::move(indices)), label_map_(std::move(label_map)),
      class_names_(class_names.empty() ? base_->class_names() : std::move(class_names)),
      description_(std::move(description)), no_augment_(no_augment) {}

int32_t DatasetView::label(int64_t i) const {
  const int32_t l = base_->label(base_index(i));
  return label_map_.empty() ? l : label_map_[static_cast<size_t>(l)];
}

void DatasetView::load(int64_t i, int64_t size, LoadMode mode, float* chw) const {
  base_->load(base_index(i), size, no_augment_ ? LoadMode::eval() : mode, chw);
}

namespace {

std::string class_list(const std::vector<std::string>& names) {
  std::string s;
  for (size_t c = 0; c < names.size(); ++c) s += cat_str(c ? ", " : "", c, " ", names[c]);
  return s;
}

// A whole non-negative integer, or nullopt.
std::optional<int64_t> as_index(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) return out;
    pos = comma + 1;
  }
}

}  // namespace

std::vector<int32_t> parse_class_subset(const std::string& spec, const std::vector<std::string>& names) {
  const int64_t k = static_cast<int64_t>(names.size());
  std::vector<int32_t> picked;
  std::vector<char> seen(names.size(), 0);
  auto add = [&](int64_t c, const std::string& item) {
    if (c < 0 || c >= k) {
      fail_user("--class-subset: '", item, "' is not a class of the data (", k, " classes: ", class_list(names), ")");
    }
    if (seen[c]) fail_user("--class-subset: class ", c, " (", names[c], ") is named twice in '", spec, "'");
    seen[c] = 1;
    picked.push_back(static_cast<int32_t>(c));
  };
  for (const std::string& item : split_commas(spec)) {
    if (item.empty()) fail_user("--class-subset: empty item in '", spec, "' (expected e.g. 0-4, or 5,7,9, or class names)");
    // A class name wins over the index reading (a folder class may be called "3").
    bool named = false;
    for (int64_t c = 0; c < k && !named; ++c) {
      if (names[c] == item) add(c, item), named = true;
    }
    if (named) continue;
    const size_t dash = item.find('-', 1);
    if (dash != std::string::npos) {
      const auto lo = as_index(std::string_view(item).substr(0, dash));
      const auto hi = as_index(std::string_view(item).substr(dash + 1));
      if (lo && hi && *lo <= *hi) {
        for (int64_t c = *lo; c <= *hi; ++c) add(c, item);
        continue;
      }
    }
    if (const auto c = as_index(item)) {
      add(*c, item);
      continue;
    }
    fail_user("--class-subset: '", item, "' is neither a class name, an index nor a range a-b (classes: ",
              class_list(names), ")");
  }
  if (picked.size() < 2) fail_user("--class-subset: '", spec, "' names ", picked.size(), " class; expected at least 2");
  return picked;
}

std::unique_ptr<Dataset> with_class_subset(std::unique_ptr<Dataset> data, const std::string& spec) {
  if (spec.empty()) return data;
  const std::vector<std::string> base_names = data->class_names();
  const std::vector<int32_t> picked = parse_class_subset(spec, base_names);
  std::vector<int32_t> map(base_names.size(), -1);
  std::vector<std::string> names;
  for (size_t j = 0; j < picked.size(); ++j) {
    map[picked[j]] = static_cast<int32_t>(j);
    names.push_back(base_names[picked[j]]);
  }
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < data->size(); ++i) {
    const int32_t l = data->label(i);
    if (l >= 0 && l < static_cast<int32_t>(map.size()) && map[l] >= 0) indices.push_back(i);
  }
  std::string desc = cat_str(data->describe(), ", classes ", spec, ": ", indices.size(), " samples");
  return std::make_unique<DatasetView>(std::move(data), std::move(indices), std::move(map), std::move(names),
                                       std::move(desc));
}

std::unique_ptr<Dataset> without_augmentation(std::unique_ptr<Dataset> data) {
  std::vector<int64_t> all(static_cast<size_t>(data->size()));
  for (int64_t i = 0; i < data->size(); ++i) all[i] = i;
  std::string desc = data->describe() + ", no augmentation";
  return std::make_unique<DatasetView>(std::move(data), std::move(all), std::vector<int32_t>{},
                                       std::vector<std::string>{}, std::move(desc), true);
}

}  // namespace thaw
