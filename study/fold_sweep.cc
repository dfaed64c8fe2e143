#include "study/fold_sweep.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "core/error.h"
#include "engine/run/run_lock.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "io/datasets.h"
#include "io/pack_format.h"
#include "stats/evaluation.h"
#include "stats/fold_interval.h"
#include "stats/predictions.h"
#include "study/sweep_data_check.h"
#include "study/sweep_report.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kMetrics[] = {"accuracy", "balanced_accuracy", "macro_f1", "macro_auc"};

std::string fold_name(int f) { return "fold-" + std::to_string(f); }

SweepConfig fold_config(const SweepConfig& c, int f) {
  SweepConfig s = c;
  s.folds = 0;
  s.out = c.out / fold_name(f);
  s.data.folds = c.folds;
  s.data.fold = f;
  s.train_args.insert(s.train_args.end(), {"--folds", std::to_string(c.folds), "--fold", std::to_string(f)});
  return s;
}

// The folds' out-of-fold test predictions as one file. Each fold's file numbers byte-identical
// copies (hash#2, ...) within itself; copies in different folds are numbered again here so that the
// pooled file's hash column still tells every image apart.
std::string pooled_predictions(const std::vector<fs::path>& files) {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  for (const fs::path& p : files) {
    CsvTable t = read_csv(p);
    if (header.empty()) {
      header = t.header;
    } else if (t.header != header) {
      fail_user(p.string(), ": its columns differ from ", files.front().string(), "'s; the folds' arms predicted other classes");
    }
    for (auto& r : t.rows) rows.push_back(std::move(r));
  }
  const auto hash_col = std::find(header.begin(), header.end(), "hash");
  if (hash_col != header.end()) {
    const size_t h = static_cast<size_t>(hash_col - header.begin());
    std::map<std::string, int> seen;
    for (auto& r : rows) {
      r[h].resize(std::min(r[h].size(), r[h].find('#')));
      const int copy = ++seen[r[h]];
      if (copy > 1) r[h] += cat_str("#", copy);
    }
  }
  std::string out;
  const auto add_row = [&out](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_field(r[i]);
    }
    out += '\n';
  };
  add_row(header);
  for (const auto& r : rows) add_row(r);
  return out;
}

// Every metric summarised here is a proportion or an AUC: the t interval, symmetric and unaware of
// that, is clipped to [0, 1].
json summary_json(const FoldSummary& s) {
  return {{"estimate", s.mean}, {"lo", std::max(0.0, s.lo)}, {"hi", std::min(1.0, s.hi)}, {"sd", s.sd}, {"folds", s.folds}};
}

double estimate(const json& split, const char* metric) { return split.at(metric).at("estimate").get<double>(); }

// One arm's entry: pooled when it is complete in every fold, else its status and first error.
json pooled_arm(const SweepConfig& c, const std::string& name, const std::vector<const json*>& per_fold) {
  json arm = {{"freeze_through", name}, {"run_dir", "arms/" + name}, {"fold_run_dirs", json::array()}};
  for (size_t f = 0; f < per_fold.size(); ++f) arm["fold_run_dirs"].push_back(fold_name(static_cast<int>(f)) + "/arms/" + name);
  std::string status = "complete";
  for (size_t f = 0; f < per_fold.size(); ++f) {
    const std::string s = per_fold[f]->value("status", "pending");
    if (s == "failed") {
      arm["status"] = "failed";
      arm["error"] = cat_str("fold ", f, ": ", per_fold[f]->value("error", ""));
      return arm;
    }
    if (s != "complete") status = "pending";
  }
  arm["status"] = status;
  if (status != "complete") return arm;

  const double ratio = 1.0 / static_cast<double>(c.folds - 1);  // n_test / n_train of k-fold
  double seconds = 0, wall = 0, images = 0;
  int64_t steps = 0, peak = 0, val_samples = 0;
  json by_fold = json::array();
  std::vector<fs::path> files;
  for (size_t f = 0; f < per_fold.size(); ++f) {
    const json& a = *per_fold[f];
    seconds += a.value("train_seconds", 0.0);
    wall += a.value("wall_seconds", 0.0);
    images += a.value("train_seconds", 0.0) * a.value("images_per_s", 0.0);
    steps += a.value("steps", int64_t{0});
    peak = std::max(peak, a.value("peak_rss_bytes", int64_t{0}));
    val_samples += a.at("val").value("samples", int64_t{0});
    json row = {{"fold", f}, {"val_samples", a.at("val").at("samples")}, {"test_samples", a.at("test").at("samples")}};
    for (const char* m : kMetrics) {
      row["val_" + std::string(m)] = estimate(a.at("val"), m);
      row["test_" + std::string(m)] = estimate(a.at("test"), m);
    }
    by_fold.push_back(row);
    files.push_back(c.out / fold_name(static_cast<int>(f)) / "arms" / name / "predictions-test.csv");
  }
  arm["trainable_parameters"] = per_fold.front()->at("trainable_parameters");
  arm["steps"] = steps;
  arm["train_seconds"] = seconds;
  arm["wall_seconds"] = wall;
  arm["images_per_s"] = seconds > 0 ? images / seconds : 0.0;
  arm["peak_rss_bytes"] = peak;
  arm["by_fold"] = by_fold;
  arm["fold_provenance"] = json::array();
  for (const json* a : per_fold) arm["fold_provenance"].push_back(a->value("provenance", json(nullptr)));
  arm["epochs"] = per_fold.front()->value("epochs", json::array());  // the loss plot's: fold 0's run
  json val = {{"samples", val_samples}}, across = json::object();
  for (const char* m : kMetrics) {
    std::vector<double> v, t;
    for (const json& r : by_fold) {
      v.push_back(r.at("val_" + std::string(m)).get<double>());
      t.push_back(r.at("test_" + std::string(m)).get<double>());
    }
    val[m] = summary_json(corrected_fold_interval(v, ratio, c.stats.confidence));
    across[m] = summary_json(corrected_fold_interval(t, ratio, c.stats.confidence));
  }
  arm["val"] = val;
  arm["across_folds"] = across;

  const fs::path dir = c.out / "arms" / name;
  fs::create_directories(dir);
  write_file_atomic(dir / "predictions-test.csv", pooled_predictions(files));
  const Predictions p = read_predictions(dir / "predictions-test.csv");
  const json eval = evaluate_predictions(p, c.stats);
  write_file_atomic(dir / "eval-test.json", eval.dump(2) + "\n");
  arm["test"] = split_metrics(eval);
  return arm;
}

// The corrected paired t-test of each compared arm's per-fold test accuracy against the best's.
void add_fold_tests(json& doc, int folds) {
  const json& best = doc.value("best_arm", json());
  if (!best.is_string()) return;
  const json* b = nullptr;
  for (const json& a : doc["arms"]) {
    if (a["freeze_through"] == best) b = &a;
  }
  for (json& a : doc["arms"]) {
    if (!a.contains("vs_best") || b == nullptr) continue;
    std::vector<double> d;
    for (size_t f = 0; f < a["by_fold"].size(); ++f) {
      d.push_back(a["by_fold"][f].at("test_accuracy").get<double>() - b->at("by_fold")[f].at("test_accuracy").get<double>());
    }
    const std::optional<double> p = corrected_paired_t_p(d, 1.0 / static_cast<double>(folds - 1));
    a["vs_best"]["corrected_t_p"] = p ? json(*p) : json(nullptr);
  }
}

void check_fold_sweep(const SweepConfig& c) {
  if (c.folds < 2) fail_user("--folds: expected 2 or more folds, got ", c.folds);
  if (!is_pack_dir(c.data.data) && !is_image_data(c.data.data)) {
    fail_user("--folds: k-fold studies are made of image data (a folder of class folders, a CSV manifest or a "
              "pack); IDX data (", c.data.data, ") has fixed train and test files");
  }
  if (c.data.test_fraction != 0) {
    fail_user("--folds and --test-fraction: with folds, each fold in turn is the test split; drop --test-fraction");
  }
  if (c.data.val_fraction == 0) {
    fail_user("--folds: give --val-fraction F: each fold's arms are chosen between on validation images carved out "
              "of its training folds (the data's own val rows join the folds)");
  }
  for (const std::string& s : c.train_args) {
    if (s == "--fold" || s.starts_with("--fold=")) fail_user("--fold: the sweep runs every fold of --folds; drop --fold");
  }
}

}  // namespace

json pool_fold_sweeps(const SweepConfig& c, const std::vector<json>& folds) {
  json doc = sweep_header(c, folds.empty() ? json(nullptr) : folds.front().value("weights", json()));
  doc["folds"] = c.folds;
  doc["fold_dirs"] = json::array();
  for (int f = 0; f < c.folds; ++f) doc["fold_dirs"].push_back(fold_name(f));
  doc["folds_done"] = folds.size();
  doc["data"]["folds"] = c.folds;
  doc["fold_interval_method"] =
      "mean over the folds with Nadeau and Bengio's corrected resampled t interval: variance (1/K + 1/(K-1)) s^2, "
      "K-1 degrees of freedom";
  doc["arms"] = json::array();
  for (size_t i = 0; i < c.freeze_points.size(); ++i) {
    const std::string& name = c.freeze_points[i];
    std::vector<const json*> per_fold;
    for (const json& d : folds) per_fold.push_back(&d.at("arms").at(i));
    if (static_cast<int>(folds.size()) < c.folds) {
      // Folds not run yet: pending, unless one already failed.
      json a = {{"freeze_through", name}, {"status", "pending"}, {"run_dir", "arms/" + name}};
      for (size_t f = 0; f < per_fold.size(); ++f) {
        if (per_fold[f]->value("status", "") == "failed") {
          a["status"] = "failed";
          a["error"] = cat_str("fold ", f, ": ", per_fold[f]->value("error", ""));
          break;
        }
      }
      doc["arms"].push_back(a);
      continue;
    }
    try {
      doc["arms"].push_back(pooled_arm(c, name, per_fold));
    } catch (const std::exception& e) {
      doc["arms"].push_back({{"freeze_through", name}, {"status", "failed"}, {"run_dir", "arms/" + name},
                             {"error", cat_str("pooling the folds: ", e.what())}});
    }
  }
  try {
    compare_arms(doc, c.out);
    add_fold_tests(doc, c.folds);
    doc["best_by"] = "mean " + selection_words(doc) + " over the folds (ties: fewer trainable parameters)";
  } catch (const std::exception& e) {
    doc["comparison_error"] = e.what();
  }
  return doc;
}

json run_fold_sweep(const SweepConfig& c, std::ostream& log) {
  if (c.freeze_points.empty()) fail_user("--freeze-through: expected at least one freeze point (or --all-blocks)");
  check_fold_sweep(c);
  std::error_code ec;
  if (fs::exists(c.out / "sweep.json", ec) && !c.overwrite && !c.resume) {
    fail_user("--out: ", c.out.string(), " already holds a sweep; pass --resume to finish it or --overwrite");
  }
  // The folds the data can take, before anything is written (io/folds.h names the class that cannot).
  const SweepConfig first = fold_config(c, 0);
  check_sweep_data(first.data, first.train_args, log);
  const RunFolderLock lock(c.out, "--out");
  std::vector<json> done;
  for (int f = 0; f < c.folds; ++f) {
    log << "thaw: sweep fold " << f + 1 << "/" << c.folds << " (" << fold_name(f) << ": test fold " << f << ")\n";
    done.push_back(run_sweep(fold_config(c, f), log));
    json doc = pool_fold_sweeps(c, done);
    write_file_atomic(c.out / "sweep.json", doc.dump(2) + "\n");
    if (f + 1 == c.folds) {
      write_sweep_report(doc, c.out, c.plot_script, log);
      return doc;
    }
  }
  return json();
}

}  // namespace thaw
