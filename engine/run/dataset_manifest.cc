#include "engine/run/dataset_manifest.h"

#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "io/csv.h"

namespace thaw {

namespace {

constexpr const char* kNames[] = {"split", "index", "label", "content_sha256", "source"};

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

// The four leading fields never hold a comma; the source, last, is the rest of the line (quoted as
// CSV quotes a field when it holds a comma or a quote).
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (f.size() < 4) {
    const size_t comma = line.find(',', pos);
    f.push_back(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    if (comma == std::string_view::npos) return f;
    pos = comma + 1;
  }
  f.push_back(line.substr(pos));
  return f;
}

std::string source_of(const Dataset& data, int64_t i, const std::filesystem::path& root) {
  const std::string p = data.source_path(i);
  if (p.empty() || root.empty()) return csv_field(p);
  const std::filesystem::path rel = std::filesystem::path(p).lexically_normal().lexically_relative(root);
  return csv_field(rel.empty() ? p : rel.string());
}

}  // namespace

DataManifest make_manifest(const std::vector<std::pair<std::string, const Dataset*>>& splits, int64_t input_size,
                           bool with_source, const std::filesystem::path& root) {
  DataManifest m;
  std::ostringstream csv;
  csv << (with_source ? kManifestColumns : "split,index,label,content_sha256") << '\n';
  for (const auto& [name, data] : splits) {
    const int64_t n = data->size();
    std::vector<std::string> hashes(static_cast<size_t>(n));
    const bool stored = n == 0 || !data->content_hash(0).empty();
    const int64_t per = 3 * input_size * input_size;
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < n; ++i) {
      if (stored) {
        hashes[i] = data->content_hash(i);
      } else {
        std::vector<float> x(static_cast<size_t>(per));
        data->load(i, input_size, LoadMode::eval(), x.data());
        hashes[i] = sha256_hex({reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float)});
      }
    }
    std::vector<int64_t> counts(static_cast<size_t>(data->num_classes()), 0);
    for (int64_t i = 0; i < n; ++i) {
      const int32_t label = data->label(i);
      if (label >= 0 && label < static_cast<int32_t>(counts.size())) ++counts[label];
      csv << name << ',' << i << ',' << label << ',' << hashes[i];
      if (with_source) csv << ',' << source_of(*data, i, root);
      csv << '\n';
    }
    m.splits[name] = {{"description", data->describe()},
                      {"samples", n},
                      {"content_hash_of", stored ? "stored bytes" : cat_str("decoded input at ", input_size, "x",
                                                                             input_size, ", float32 little-endian")},
                      {"counts_per_class", counts}};
  }
  m.csv = csv.str();
  m.sha256 = sha256_hex(m.csv);
  return m;
}

std::string first_manifest_difference(std::string_view recorded_csv, std::string_view present_csv) {
  const std::vector<std::string_view> a = split_lines(recorded_csv), b = split_lines(present_csv);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
    if (i >= b.size()) return cat_str("line ", i + 1, " of samples.csv (", a[i], ") has no sample in the present data");
    if (i >= a.size()) return cat_str("the present data has more samples than recorded, from ", b[i]);
    const std::vector<std::string_view> fa = split_fields(a[i]), fb = split_fields(b[i]);
    std::string what;
    for (size_t k = 0; k < std::max(fa.size(), fb.size()); ++k) {
      const std::string_view va = k < fa.size() ? fa[k] : "", vb = k < fb.size() ? fb[k] : "";
      if (va == vb) continue;
      what += cat_str(what.empty() ? "" : "; ", k < 5 ? kNames[k] : "field", " recorded ", va, ", now ", vb);
    }
    const std::string who = fa.size() >= 2 ? cat_str(fa[0], " sample ", fa[1]) : cat_str("sample");
    const std::string file = fa.size() >= 5 && !fa[4].empty() ? cat_str(", ", fa[4]) : "";
    return cat_str(who, " (line ", i + 1, " of samples.csv", file, "): ", what);
  }
  return {};
}

}  // namespace thaw
