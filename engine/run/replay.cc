#include "engine/run/replay.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"
#include "engine/run/best_weights.h"
#include "engine/run/plan_differences.h"
#include "engine/run/record.h"
#include "engine/run/record_env.h"
#include "engine/model/state_hash.h"
#include "engine/run/rank_context.h"
#include "engine/run/record_steps.h"
#include "engine/run/run_lock.h"
#include "engine/run/run_setup.h"
#include "engine/parallel/shards.h"
#include "io/file_bytes.h"

namespace thaw {

namespace {

using ojson = nlohmann::ordered_json;

std::string str(const ojson& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

// Compares each replayed step with its recorded line and stops at the first difference or after
// the last step asked for.
class StepComparer final : public StepObserver {
 public:
  // `rule`: the record's digest rule (record_digest_rule).
  StepComparer(const std::vector<ojson>& recorded, int64_t limit, DigestRule rule)
      : recorded_(recorded), limit_(limit), maker_(rule) {}

  bool on_step(const StepInfo& info) override {
    // Through text, as the recorded line went: numbers compare as they read back.
    const ojson now = ojson::parse(maker_.next(info).dump());
    const ojson& rec = recorded_[static_cast<size_t>(info.step)];
    const std::vector<std::string> fields = differing_fields(rec, now);
    if (!fields.empty()) {
      std::ostringstream os;
      os << "differs at step " << info.step << " (epoch " << info.epoch << "):";
      for (const std::string& f : fields) {
        os << "\n  " << f << ": recorded " << (rec.contains(f) ? str(rec[f]) : "(absent)") << ", now "
           << (now.contains(f) ? str(now[f]) : "(absent)");
      }
      difference_ = os.str();
      return false;
    }
    ++compared_;
    return compared_ < limit_;
  }

  int64_t compared() const { return compared_; }
  const std::string& difference() const { return difference_; }

 private:
  const std::vector<ojson>& recorded_;
  int64_t limit_;
  int64_t compared_ = 0;
  std::string difference_;
  StepLineMaker maker_;
};

// Each key of `recorded` whose value differs in `present`, with its path ("resolved.lr_schedule").
void diff_json(const std::string& path, const ojson& recorded, const ojson& present, std::vector<std::string>& out) {
  if (recorded.is_object() && present.is_object()) {
    for (const auto& [k, v] : recorded.items()) {
      diff_json(path + "." + k, v, present.contains(k) ? present[k] : ojson(), out);
    }
    for (const auto& [k, v] : present.items()) {
      if (!recorded.contains(k)) out.push_back(cat_str(path, ".", k, ": not recorded, now ", str(v)));
    }
    return;
  }
  if (recorded != present) {
    const std::string a = str(recorded), b = str(present);
    // Long lists (tensor names) would drown the line: say that they differ, not how.
    if (a.size() + b.size() > 200) {
      out.push_back(cat_str(path, ": differs"));
    } else {
      out.push_back(cat_str(path, ": recorded ", a, ", now ", b));
    }
  }
}

// result.gpu_plans of a finished GPU run; none for CPU runs and unfinished ones.
std::vector<std::string> recorded_gpu_plans(const ojson& record) {
  std::vector<std::string> plans;
  if (!record.contains("result") || !record.at("result").contains("gpu_plans")) return plans;
  for (const auto& p : record.at("result").at("gpu_plans")) plans.push_back(p.get<std::string>());
  return plans;
}

void print_environment(const ojson& record, std::ostream& out, bool& bit_changing) {
  const std::vector<EnvDifference> diffs =
      compare_environments(record.at("environment"), capture_environment(recorded_device(record)));
  bit_changing = false;
  for (const EnvDifference& d : diffs) bit_changing = bit_changing || d.bit_changing;
  if (!bit_changing) out << "environment: no difference that can change the bits\n";
  for (const EnvDifference& d : diffs) {
    if (d.bit_changing) {
      out << "environment differs (can change bits): " << d.field << ": recorded " << d.recorded << ", now "
          << d.present << "\n";
    } else {
      out << "environment differs (cannot change bits: " << d.why << "): " << d.field << ": recorded " << d.recorded
          << ", now " << d.present << "\n";
    }
  }
}

void verify_data(const std::filesystem::path& dir, const ojson& record, const RunSetup& setup, std::ostream& out) {
  const std::string want = str(record.at("data").at("manifest_sha256"));
  const DataManifest now = run_manifest(setup, recorded_with_sources(record));
  if (now.sha256 == want) {
    out << "data: " << setup.train_data->size() << " training and " << (setup.val_data ? setup.val_data->size() : 0)
        << " held-out samples match the manifest (sha256 " << want.substr(0, 16) << "...)\n";
    return;
  }
  const std::filesystem::path csv_path = dir / "samples.csv";
  const std::string recorded_csv = read_file_or_empty(csv_path);
  if (recorded_csv.empty() || sha256_hex(recorded_csv) != want) {
    fail_user("the data differs from the record (manifest sha256 recorded ", want, ", now ", now.sha256, "), and ",
              csv_path.string(), " is missing or edited, so the changed sample cannot be named");
  }
  fail_user("the data differs from the record: ", first_manifest_difference(recorded_csv, now.csv));
}

InitialState verify_initial_state(const ojson& record, const RunConfig& c, const Graph& g, std::ostream& out) {
  const ojson& iw = record.at("initial_weights");
  const std::string file_hash = str(iw.at("file_sha256"));
  if (!c.weights.empty()) {
    if (!std::filesystem::exists(c.weights)) fail_user("initial weights ", c.weights, ": missing");
    const std::string now = sha256_file_hex(c.weights);
    if (now != file_hash) {
      fail_user("initial weights ", c.weights, " changed since the run: SHA-256 recorded ", file_hash, ", now ", now);
    }
  }
  InitialState init = initial_state(c, g);
  const std::string state = state_sha256(g, init.state);
  if (state != str(iw.at("state_sha256"))) {
    fail_user("initial parameters from ", init.source, " differ from the record: state SHA-256 recorded ",
              str(iw.at("state_sha256")), ", now ", state);
  }
  out << "initial weights: " << init.source << " match (state sha256 " << state.substr(0, 16) << "...)\n";
  return init;
}

// A whole finished run is also checked after its last step: the state includes the running
// statistics, which no step line covers. "" when it matches or the run did not finish.
std::string final_state_difference(const ojson& record, int64_t recorded, const Graph& g,
                                   const ModelState<float>& state) {
  if (!record.contains("result") || record.at("result").value("steps", int64_t{-1}) != recorded) return "";
  const std::string want = str(record.at("result").at("final_state_sha256"));
  const std::string now = state_sha256(g, state);
  if (now == want) return "";
  return cat_str("differs after the last step (", recorded - 1, "): final_state_sha256 recorded ", want, ", now ", now);
}

ReplayOutcome replay_checked(const ReplayOptions& opt, std::ostream& out, std::ostream& log) {
  // A live run's record and steps are still being written: reading them would replay half a run.
  if (const pid_t holder = run_folder_holder(opt.dir); holder != 0) {
    fail_user(opt.dir.string(), ": a thaw process", holder > 0 ? cat_str(" (pid ", holder, ")") : std::string(),
              " is still training in this folder; replay it once that run has ended");
  }
  const ojson record = read_record(opt.dir);
  const RecordedSteps steps = read_steps(opt.dir / "steps.jsonl");
  const int64_t recorded = static_cast<int64_t>(steps.lines.size());
  if (opt.steps < 0) fail_user("--steps: expected a positive count, got ", opt.steps);
  if (opt.steps > recorded) fail_user("--steps ", opt.steps, ": the record holds only ", recorded, " steps");
  const int64_t limit = opt.steps > 0 ? opt.steps : recorded;
  out << "replay: run " << str(record.at("run_id")) << ", " << recorded << " steps recorded"
      << (record.value("status", "") == "complete" ? "" : " (the run did not finish)")
      << (steps.torn_tail ? ", a torn last line ignored" : "") << "\n";
  if (limit == 0) fail_user(opt.dir.string(), "/steps.jsonl: no step to replay");

  bool env_differs = false;
  print_environment(record, out, env_differs);

  const RunConfig c = recorded_config(record, (opt.dir / "record.json").string());
  const RunSetup setup = setup_run(c);
  std::vector<std::string> config_diffs;
  diff_json("resolved", record.at("resolved"), resolved_config(c, setup), config_diffs);
  diff_json("freeze", record.at("freeze"), freeze_section(setup.graph, setup.train), config_diffs);
  if (record.contains("V") && record.at("V") != ojson(setup.train.shards)) {
    config_diffs.push_back(cat_str("V (virtual shards): recorded ", str(record.at("V")), ", now ", setup.train.shards));
  }
  for (const std::string& d : config_diffs) out << "configuration differs (can change bits): " << d << "\n";

  verify_data(opt.dir, record, setup, out);
  InitialState init = verify_initial_state(record, c, setup.graph, out);

  TrainConfig cfg = setup.train;
  if (opt.ranks) opt.ranks->set_device(cfg.cuda);  // any GPU count: the bits depend on V only
  cfg.ranks = opt.ranks ? opt.ranks->total_ranks() : 1;
  cfg.gpu_pins = recorded_gpu_plans(record);  // the recorded engines, wherever the library still has them
  validate_shards(cfg, setup.graph);
  out << "replaying " << limit << " of " << recorded << " steps with " << cfg.ranks << " rank"
      << (cfg.ranks == 1 ? "" : "s") << " (recorded: " << record.value("N", 1) << ") and " << cfg.shards
      << " virtual shards (recorded: " << record.value("V", 1) << ")\n"
      << std::flush;
  StepComparer comparer(steps.lines, limit, record_digest_rule(record));
  std::optional<BestStateCheck> best;
  if (record.contains("best")) cfg.epoch_observer = &best.emplace(setup.graph, record.at("best"));
  const TrainSummary summary = opt.ranks
                                   ? opt.ranks->train(setup.graph, init.state, *setup.train_data, nullptr, cfg, log, &comparer)
                                   : train(setup.graph, init.state, *setup.train_data, nullptr, cfg, log, &comparer);
  const std::vector<std::string> plan_diffs = plan_differences(recorded_gpu_plans(record), summary.gpu_plans);
  for (const std::string& d : plan_diffs) out << "gpu plan differs (can change bits): " << d << "\n";

  ReplayOutcome r;
  r.steps_compared = comparer.compared();
  std::string verdict = comparer.difference();
  if (verdict.empty() && r.steps_compared < limit) {
    verdict = cat_str("differs: the replay ended after ", r.steps_compared, " steps, the record has ", recorded);
  }
  if (verdict.empty() && limit == recorded) verdict = final_state_difference(record, recorded, setup.graph, init.state);
  if (best && !best->verdict().empty()) {
    out << best->verdict() << "\n";
    if (!best->matched() && verdict.empty()) verdict = "differs: " + best->verdict();
  }
  if (verdict.empty()) {
    r.identical = true;
    out << "identical: " << r.steps_compared << " steps\n";
  } else {
    out << verdict << "\n";
    if (env_differs || !config_diffs.empty() || !plan_diffs.empty()) {
      out << "the differences listed above can explain it\n";
    }
  }
  return r;
}

}  // namespace

ReplayOutcome replay_run(const ReplayOptions& opt, std::ostream& out, std::ostream& log) {
  try {
    return replay_checked(opt, out, log);
  } catch (const nlohmann::json::exception& e) {
    fail_user((opt.dir / "record.json").string(), ": a field is missing or malformed (", e.what(), ")");
  }
}

}  // namespace thaw
