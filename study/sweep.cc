#include "study/sweep.h"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/utc_now.h"
#include "engine/run/run_lock.h"
#include "engine/model/weights_origin.h"
#include "engine/run/run_summary.h"
#include "engine/train/unfreeze.h"
#include "graph/network.h"
#include "io/temp_leftovers.h"
#include "io/atomic_file.h"
#include "io/datasets.h"
#include "stats/comparison.h"
#include "stats/holm.h"
#include "stats/mcnemar.h"
#include "stats/predictions.h"
#include "study/arm_checkpoints.h"
#include "study/child_process.h"
#include "study/eval_files.h"
#include "study/eval_model.h"
#include "study/run_provenance.h"
#include "study/sweep_data_check.h"
#include "study/sweep_report.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json read_json(const fs::path& p) {
  json j = json::parse(read_file_bytes(p), nullptr, false);
  if (j.is_discarded()) fail_user(p.string(), ": not valid JSON");
  return j;
}

fs::path arm_dir(const fs::path& out, const std::string& freeze) { return out / "arms" / freeze; }

// {estimate, lo, hi} of an eval.json value (a proportion, a bootstrap or a DeLong value).
json interval(const json& v) { return {{"estimate", v.at("estimate")}, {"lo", v.at("lo")}, {"hi", v.at("hi")}}; }

// The arm's training figures from its run folder (summary.json), and its process's.
void add_training_figures(json& arm, const fs::path& dir, const ChildResult& child) {
  const RunSummary s = read_run_summary(dir);
  double seconds = 0, images = 0;
  json epochs = json::array();
  for (const EpochResult& e : s.epochs) {
    seconds += e.seconds;
    images += e.seconds * e.images_per_s;
    epochs.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"val_loss", e.val_loss},
                      {"val_accuracy", e.val_accuracy}, {"seconds", e.seconds}});
  }
  arm["trainable_parameters"] = s.trainable_parameters;
  arm["steps"] = s.steps;
  arm["train_seconds"] = seconds;
  arm["images_per_s"] = seconds > 0 ? images / seconds : 0.0;
  arm["wall_seconds"] = child.seconds;
  arm["peak_rss_bytes"] = child.peak_rss_bytes;
  arm["epochs"] = epochs;
}

std::string child_error(const ChildResult& r) {
  if (r.signal != 0) {
    return cat_str("thaw train was killed by signal ", r.signal, r.signal == 9 ? " (out of memory?)" : "");
  }
  if (!r.last_error.empty()) return r.last_error;
  return cat_str("thaw train exited with code ", r.exit_code, " (see train.log)");
}

// Evaluates a finished arm on one split; returns its metrics.
json evaluate_arm(const fs::path& dir, DataSplit split, const SweepConfig& c) {
  EvalFilesRequest req;
  req.stats = c.stats;
  req.batch_size = c.eval_batch_size;
  req.batch_flag = "--eval-batch-size";
  req.limit = c.test_limit;  // test: all, or --test-limit; validation: what training validated on
  return split_metrics(evaluate_run(dir, split, req).eval);
}

void write_sweep(const SweepConfig& c, json& doc) {
  // A comparison that cannot be made (test predictions of different samples) is said in the
  // document; it must not cost the arms already finished.
  try {
    compare_arms(doc, c.out);
    doc.erase("comparison_error");
  } catch (const std::exception& e) {
    doc["comparison_error"] = e.what();
  }
  write_file_atomic(c.out / "sweep.json", doc.dump(2) + "\n");
}

// Arms of an earlier sweep.json that finished with the same training flags.
json finished_arms(const SweepConfig& c) {
  json kept = json::object();
  const fs::path p = c.out / "sweep.json";
  if (!c.resume || !fs::exists(p)) return kept;
  const json old = read_json(p);
  if (old.value("format", "") != kSweepFormat) fail_user(p.string(), ": not a thaw sweep (format)");
  if (old.value("train_args", json::array()) != json(c.train_args)) {
    fail_user("--resume: ", p.string(), " was made with other training flags; start a new sweep (--overwrite)");
  }
  for (const json& arm : old.at("arms")) {
    if (arm.value("status", "") == "complete") kept[arm.at("freeze_through").get<std::string>()] = arm;
  }
  return kept;
}

// The --weights given for the arms (as `--weights W` or `--weights=W`), checked against --arch once
// here: the wrong architecture is one line before any arm runs, not the same failure per arm.
void check_weights(const SweepConfig& c) {
  const std::vector<std::string>& args = c.train_args;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string w;
    if (args[i] == "--weights" && i + 1 < args.size()) w = args[i + 1];
    if (args[i].rfind("--weights=", 0) == 0) w = args[i].substr(std::string("--weights=").size());
    if (!w.empty()) check_weights_arch(c.data.arch, w);
  }
}

}  // namespace

json split_metrics(const json& eval) {
  return {{"samples", eval.at("samples")},
          {"accuracy", interval(eval.at("accuracy"))},
          {"balanced_accuracy", interval(eval.at("balanced_accuracy"))},
          {"macro_f1", interval(eval.at("macro").at("f1"))},
          {"macro_auc", interval(eval.at("macro").at("auc"))}};
}

bool is_unfreeze_arm(const std::string& arm) { return arm.find('@') != std::string::npos; }

std::string unfreeze_spec(const std::string& arm) {
  std::string spec = arm;
  std::replace(spec.begin(), spec.end(), '+', ',');
  return spec;
}

std::vector<std::string> all_freeze_points(const std::string& arch) {
  const Graph g = build_network(arch, 299, 2);
  std::vector<std::string> names = {"none"};
  for (const Block& b : g.blocks) {
    if (b.name != "head") names.push_back(b.name);
  }
  return names;
}

std::vector<std::string> parse_freeze_points(const std::string& list, const std::string& arch) {
  const Graph g = build_network(arch, 299, 2);
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) fail_user("--freeze-through: empty name in '", list, "'");
    if (item.find('@') != std::string::npos) {  // a gradual-unfreezing arm: BLOCK@EPOCH+BLOCK@EPOCH...
      std::string name;
      // Checked as --unfreeze checks it, but for the run's length, which the arms' flags set.
      std::vector<UnfreezePoint> points;
      try {
        points = parse_unfreeze(unfreeze_spec(item), g, std::numeric_limits<int64_t>::max());
      } catch (const UserError& e) {
        std::string why = e.what();
        if (why.starts_with("--unfreeze: ")) why = why.substr(12);
        fail_user("--freeze-through: the unfreezing arm '", item, "': ", why);
      }
      for (const UnfreezePoint& p : points) {
        name += (name.empty() ? "" : "+") + (p.block < 0 ? std::string("none") : g.blocks[static_cast<size_t>(p.block)].name) +
                "@" + std::to_string(p.epoch);
      }
      if (!seen.insert(name).second) fail_user("--freeze-through: ", name, " appears twice in '", list, "'");
      out.push_back(name);
      continue;
    }
    const int b = g.find_block(item);  // an unknown name fails here, listing the valid ones
    const std::string name = b < 0 ? "none" : g.blocks[static_cast<size_t>(b)].name;
    if (name == "head") fail_user("--freeze-through: head freezes everything; nothing would train");
    if (!seen.insert(name).second) fail_user("--freeze-through: ", name, " appears twice in '", list, "'");
    out.push_back(name);
  }
  if (out.empty()) fail_user("--freeze-through: expected a comma-separated list of freeze points");
  return out;
}

json sweep_header(const SweepConfig& c, const json& weights) {
  json doc;
  doc["format"] = kSweepFormat;
  doc["version"] = kSweepVersion;
  doc["created_utc"] = utc_now();
  doc["command"] = c.command_line;
  doc["data"] = {{"spec", c.data.data},
                 {"class_subset", c.data.class_subset},
                 {"val_fraction", c.data.val_fraction},
                 {"test_fraction", c.data.test_fraction},
                 {"seed", c.data.seed}};
  doc["train_args"] = c.train_args;
  doc["weights"] = weights;
  doc["ci_method"] = ci_method_name(c.stats.ci);
  doc["confidence"] = c.stats.confidence;
  doc["test_limit"] = c.test_limit;
  doc["select"] = c.select;
  return doc;
}

std::string select_arm_field(const std::string& metric) {
  if (metric == "accuracy" || metric == "balanced_accuracy") return metric;
  if (metric == "auc") return "macro_auc";
  fail_user("--select-arm: expected accuracy, balanced_accuracy or auc, got '", metric, "'");
}

std::string selection_words(const json& sweep) {
  const std::string m = sweep.value("select", "accuracy");
  return m == "balanced_accuracy" ? "validation balanced accuracy" : m == "auc" ? "validation macro AUC" : "validation accuracy";
}

void compare_arms(json& sweep, const fs::path& dir) {
  json& arms = sweep.at("arms");
  const std::string field = select_arm_field(sweep.value("select", "accuracy"));
  int best = -1;
  for (size_t i = 0; i < arms.size(); ++i) {
    const json& a = arms[i];
    if (a.value("status", "") != "complete") continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const json& b = arms[static_cast<size_t>(best)];
    const double va = a.at("val").at(field).at("estimate").get<double>();
    const double vb = b.at("val").at(field).at("estimate").get<double>();
    if (va > vb || (va == vb && a.at("trainable_parameters").get<int64_t>() < b.at("trainable_parameters").get<int64_t>())) {
      best = static_cast<int>(i);
    }
  }
  sweep["best_arm"] = best < 0 ? json(nullptr) : arms[static_cast<size_t>(best)].at("freeze_through");
  sweep["best_by"] = selection_words(sweep) + " (ties: fewer trainable parameters)";
  if (best < 0) return;
  const std::string best_name = arms[static_cast<size_t>(best)].at("freeze_through").get<std::string>();
  const Predictions pb = read_predictions(arm_dir(dir, best_name) / "predictions-test.csv");
  std::vector<size_t> tested;
  std::vector<double> ps;
  for (size_t i = 0; i < arms.size(); ++i) {
    json& a = arms[i];
    a.erase("vs_best");
    if (a.value("status", "") != "complete" || static_cast<int>(i) == best) continue;
    const Predictions pa = read_predictions(arm_dir(dir, a.at("freeze_through").get<std::string>()) / "predictions-test.csv");
    const SampleMatch m = match_samples(pa, pb);  // the same test samples, or a UserError naming both files
    std::vector<uint8_t> ca(static_cast<size_t>(pa.size())), cb(static_cast<size_t>(pa.size()));
    for (int64_t s = 0; s < pa.size(); ++s) {
      const int64_t t = m.b_of_a[static_cast<size_t>(s)];
      ca[s] = pa.predicted[s] == pa.labels[s];
      cb[s] = pb.predicted[t] == pb.labels[t];
    }
    const McNemarTest mc = mcnemar_exact(ca, cb);
    a["vs_best"] = {{"best", best_name},
                    {"matched_by", m.by},
                    {"only_this_correct", mc.only_a_correct},
                    {"only_best_correct", mc.only_b_correct},
                    {"both_correct", mc.both_correct},
                    {"both_wrong", mc.both_wrong},
                    {"mcnemar_p", mc.p}};
    tested.push_back(i);
    ps.push_back(mc.p);
  }
  const std::vector<double> adj = holm_adjust(ps);
  for (size_t j = 0; j < tested.size(); ++j) arms[tested[j]]["vs_best"]["p_holm"] = adj[j];
  sweep["holm_family"] = tested.size();
}

namespace {

// sweep.json as it starts: what the sweep is, and every arm pending or kept from an earlier sweep.
json new_sweep_doc(const SweepConfig& c, const std::string& weights, const json& kept) {
  json doc = sweep_header(c, weights.empty() ? json(nullptr) : json(fs::absolute(weights).lexically_normal().string()));
  doc["arms"] = json::array();
  for (const std::string& f : c.freeze_points) {
    if (kept.contains(f)) {
      doc["arms"].push_back(kept[f]);
    } else {
      doc["arms"].push_back({{"freeze_through", f}, {"status", "pending"}, {"run_dir", "arms/" + f}});
    }
  }
  return doc;
}

// Trains and evaluates one arm; its entry in `doc` says how it went. A UserError when the arm was
// interrupted by a signal (the sweep stops; --resume carries on).
void run_arm(const SweepConfig& c, json& doc, size_t i, std::ostream& log) {
  const std::string& f = c.freeze_points[i];
  json& arm = doc["arms"][i];
  std::error_code ec;
  const fs::path dir = arm_dir(c.out, f);
  fs::create_directories(dir, ec);
  log << "thaw: sweep arm " << i + 1 << "/" << c.freeze_points.size() << ": --freeze-through " << f << "\n";
  std::vector<std::string> argv = {c.thaw.string(), "train"};
  argv.insert(argv.end(), c.train_args.begin(), c.train_args.end());
  if (is_unfreeze_arm(f)) {
    argv.insert(argv.end(), {"--unfreeze", unfreeze_spec(f)});
  } else {
    argv.insert(argv.end(), {"--freeze-through", f});
  }
  argv.insert(argv.end(), {"--out", dir.string(), "--overwrite"});
  arm = {{"freeze_through", f}, {"status", "running"}, {"run_dir", "arms/" + f}};
  const ChildResult child = run_child(argv, dir / "train.log");
  if (child.exit_code != 0) {
    arm["status"] = "failed";
    arm["error"] = child_error(child);
    arm["wall_seconds"] = child.seconds;
    arm["peak_rss_bytes"] = child.peak_rss_bytes;
    log << "thaw: sweep arm " << f << " failed: " << arm["error"].get<std::string>() << "\n";
    write_sweep(c, doc);
    if (child.signal == SIGINT || child.signal == SIGTERM) fail_user("sweep interrupted; --resume carries on");
    return;
  }
  try {
    add_training_figures(arm, dir, child);
    arm["provenance"] = run_provenance(dir);
    log << "thaw: evaluating arm " << f << " on the validation and test splits\n";
    arm["val"] = evaluate_arm(dir, DataSplit::Val, c);
    arm["test"] = evaluate_arm(dir, DataSplit::Test, c);
    arm["status"] = "complete";
    if (!c.keep_arm_checkpoints) remove_arm_checkpoints(dir, f, log);
  } catch (const std::exception& e) {
    arm["status"] = "failed";
    arm["error"] = cat_str("evaluation: ", e.what());
    log << "thaw: sweep arm " << f << " failed: " << arm["error"].get<std::string>() << "\n";
  }
  write_sweep(c, doc);
  write_sweep_report(doc, c.out, c.plot_script, log);
}

}  // namespace

json run_sweep(const SweepConfig& c, std::ostream& log) {
  if (c.freeze_points.empty()) fail_user("--freeze-through: expected at least one freeze point (or --all-blocks)");
  std::error_code ec;
  if (fs::exists(c.out / "sweep.json", ec) && !c.overwrite && !c.resume) {
    fail_user("--out: ", c.out.string(), " already holds a sweep; pass --resume to finish it or --overwrite");
  }
  check_weights(c);
  check_sweep_data(c.data, c.train_args, log);
  // One sweep per folder, from here to its end (engine/run/run_lock.h); each arm's `thaw train`
  // holds its own arm folder. Under the lock, temporaries of a killed sweep are removed.
  const RunFolderLock lock(c.out, "--out");
  if (const RemovedLeftovers r = remove_dead_temporaries(c.out); !r.files.empty()) {
    log << "thaw: sweep: removed " << r.files.size() << " temporary file(s) left in " << c.out.string()
        << " by a thaw process that died\n";
  }
  const json kept = finished_arms(c);
  const std::string weights = train_arg(c.train_args, "--weights");
  if (weights.empty()) {
    log << "thaw: sweep: no --weights: every arm starts from the same seeded random initialisation, so its frozen "
           "blocks are random features, not pretrained ones; give --weights W.safetensors for a transfer study\n";
  }
  fs::create_directories(c.out / "arms", ec);
  if (ec) fail_user("--out: cannot create ", (c.out / "arms").string(), ": ", ec.message());

  json doc = new_sweep_doc(c, weights, kept);
  write_sweep(c, doc);

  for (size_t i = 0; i < c.freeze_points.size(); ++i) {
    const std::string& f = c.freeze_points[i];
    if (doc["arms"][i].at("status") == "complete") {
      log << "thaw: sweep arm " << i + 1 << "/" << c.freeze_points.size() << " (--freeze-through " << f
          << "): kept from the earlier sweep\n";
      if (!c.keep_arm_checkpoints) remove_arm_checkpoints(arm_dir(c.out, f), f, log);
      continue;
    }
    run_arm(c, doc, i, log);
  }
  write_sweep(c, doc);
  write_sweep_report(doc, c.out, c.plot_script, log);
  return doc;
}

}  // namespace thaw
