#pragma once
// A predictions file: CSV with a header `label,predicted,<class>,<class>,...`: the true class, the
// predicted class, and one probability column per class, named by the class (in that order; the
// order is the class order everywhere). Optional columns: `group` (samples of one patient, for the
// bootstrap), `hash` and `path` (what identifies a sample when two files are compared). Every
// other column is a class. Each row's probabilities lie in [0, 1] and sum to 1 within 1e-3.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/csv.h"

namespace thaw {

inline constexpr double kProbabilitySumTolerance = 1e-3;

struct Predictions {
  std::string source;
  std::vector<std::string> classes;
  std::vector<int> labels;       // class index per sample
  std::vector<int> predicted;    // class index per sample
  std::vector<double> probs;     // samples x classes, row-major
  std::vector<std::string> groups;  // empty without a group column
  std::vector<std::string> hashes;  // empty without a hash column
  std::vector<std::string> paths;   // empty without a path column
  std::vector<int64_t> lines;    // the file line of each sample, for messages

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int num_classes() const { return static_cast<int>(classes.size()); }
  double prob(int64_t sample, int c) const { return probs[static_cast<size_t>(sample) * classes.size() + c]; }
  // Index of a class by name, or -1.
  int class_index(const std::string& name) const;
  std::vector<double> class_scores(int c) const;
  std::vector<uint8_t> is_class(int c) const;  // label == c per sample
};

// Checks everything listed above; the first problem is a UserError naming the file, the line and
// the column.
Predictions predictions_from_csv(const CsvTable& table);
Predictions read_predictions(const std::filesystem::path& path);

}  // namespace thaw
