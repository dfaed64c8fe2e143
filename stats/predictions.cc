#include "stats/predictions.h"

#include <charconv>
#include <cmath>
#include <set>

#include "core/error.h"

namespace thaw {

int Predictions::class_index(const std::string& name) const {
  for (size_t c = 0; c < classes.size(); ++c) {
    if (classes[c] == name) return static_cast<int>(c);
  }
  return -1;
}

std::vector<double> Predictions::class_scores(int c) const {
  std::vector<double> s(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) s[i] = prob(static_cast<int64_t>(i), c);
  return s;
}

std::vector<uint8_t> Predictions::is_class(int c) const {
  std::vector<uint8_t> s(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) s[i] = labels[i] == c ? 1 : 0;
  return s;
}

namespace {

bool reserved(const std::string& name) {
  return name == "label" || name == "predicted" || name == "group" || name == "hash" || name == "path";
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string class_list(const std::vector<std::string>& classes) {
  std::string out;
  for (const std::string& c : classes) out += (out.empty() ? "" : ", ") + c;
  return out;
}

}  // namespace

Predictions predictions_from_csv(const CsvTable& t) {
  Predictions p;
  p.source = t.source;
  const int label_col = t.column("label"), pred_col = t.column("predicted");
  if (label_col < 0) fail_user(t.source, ": line 1: expected a column named 'label' in the header");
  if (pred_col < 0) fail_user(t.source, ": line 1: expected a column named 'predicted' in the header");
  std::vector<int> class_cols;
  std::set<std::string> seen;
  for (size_t j = 0; j < t.header.size(); ++j) {
    const std::string& name = t.header[j];
    if (!seen.insert(name).second) fail_user(t.source, ": line 1: column '", name, "' appears twice in the header");
    if (reserved(name)) continue;
    if (name.empty()) fail_user(t.source, ": line 1, column ", j + 1, ": expected a class name, got an empty header field");
    p.classes.push_back(name);
    class_cols.push_back(static_cast<int>(j));
  }
  if (p.classes.size() < 2) {
    fail_user(t.source, ": line 1: expected a probability column per class (at least two) after label,predicted; found ",
              p.classes.size());
  }
  if (t.rows.empty()) fail_user(t.source, ": expected at least one row of predictions after the header");
  const int group_col = t.column("group"), hash_col = t.column("hash"), path_col = t.column("path");
  const size_t k = p.classes.size();
  p.probs.reserve(t.rows.size() * k);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const std::vector<std::string>& row = t.rows[r];
    const int64_t line = t.lines[r];
    const auto class_at = [&](int col) {
      const std::string name = trimmed(row[col]);
      const int c = p.class_index(name);
      if (c < 0) {
        fail_user(t.source, ": line ", line, ", column '", t.header[col], "': expected one of the header's classes (",
                  class_list(p.classes), "), got '", row[col], "'");
      }
      return c;
    };
    p.labels.push_back(class_at(label_col));
    p.predicted.push_back(class_at(pred_col));
    double sum = 0;
    for (const int col : class_cols) {
      const std::string text = trimmed(row[col]);
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || v < 0.0 ||
          v > 1.0) {
        fail_user(t.source, ": line ", line, ", column '", t.header[col], "': expected a probability in [0, 1], got '",
                  row[col], "'");
      }
      p.probs.push_back(v);
      sum += v;
    }
    if (std::fabs(sum - 1.0) > kProbabilitySumTolerance) {
      fail_user(t.source, ": line ", line, ": expected the class probabilities to sum to 1 (within ",
                kProbabilitySumTolerance, "), they sum to ", sum);
    }
    const auto text_at = [&](int col, std::vector<std::string>& into) {
      if (col < 0) return;
      const std::string v = trimmed(row[col]);
      if (v.empty()) fail_user(t.source, ": line ", line, ", column '", t.header[col], "': expected a value, got an empty field");
      into.push_back(v);
    };
    text_at(group_col, p.groups);
    text_at(hash_col, p.hashes);
    text_at(path_col, p.paths);
    p.lines.push_back(line);
  }
  return p;
}

Predictions read_predictions(const std::filesystem::path& path) { return predictions_from_csv(read_csv(path)); }

}  // namespace thaw
