#include "cli/run_file_flags.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "engine/run/record_read.h"
#include "io/file_bytes.h"

namespace thaw::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Flags a file must not set: the file itself, and where the run's own folder and its record come from.
const std::set<std::string> kNotFromFile = {"config", "from-record", "help"};

std::string flag_key(std::string key) {
  if (key.starts_with("--")) key = key.substr(2);
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

// The RunConfig field an option fills: its long name with '_' for '-' (none for flags outside it).
std::string field_of(const CLI::Option& o) {
  std::string f = o.get_name();
  if (f.starts_with("--")) f = f.substr(2);
  std::replace(f.begin(), f.end(), '-', '_');
  return f;
}

std::vector<std::string> scalar_inputs(const YAML::Node& v, const std::string& file, const std::string& key) {
  if (v.IsScalar()) return {v.Scalar()};
  if (v.IsSequence()) {
    std::vector<std::string> out;
    for (const YAML::Node& e : v) {
      if (!e.IsScalar()) fail_user(file, ": ", key, ": expected a value or a list of values");
      out.push_back(e.Scalar());
    }
    return out;
  }
  fail_user(file, ": ", key, ": expected a value or a list of values, not ", v.IsNull() ? "nothing" : "a mapping");
}

// The file as (key, values) pairs in its order. JSON is read as JSON (nlohmann), anything else as
// YAML (yaml-cpp); both must be one mapping.
std::vector<std::pair<std::string, std::vector<std::string>>> read_run_file(const std::string& file) {
  const std::string text = read_file_bytes(file);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail_user(file, ": not a JSON object of flag names and values");
    for (const auto& [k, v] : j.items()) {
      std::vector<std::string> values;
      const auto one = [&](const nlohmann::ordered_json& e) {
        if (e.is_string()) return e.get<std::string>();
        if (e.is_number() || e.is_boolean()) return e.dump();
        fail_user(file, ": ", k, ": expected a value or a list of values");
      };
      if (v.is_array()) {
        for (const auto& e : v) values.push_back(one(e));
      } else {
        values.push_back(one(v));
      }
      out.emplace_back(k, values);
    }
    return out;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_user(file, ": not valid YAML or JSON: line ", e.mark.line + 1, ": ", e.msg);
  }
  if (!root.IsMap()) fail_user(file, ": expected a mapping of flag names to values (batch_size: 16, ...)");
  for (const auto& kv : root) {
    const std::string k = kv.first.Scalar();
    out.emplace_back(k, scalar_inputs(kv.second, file, k));
  }
  return out;
}

void apply_config_file(const std::string& file, CLI::App& sub) {
  if (!fs::is_regular_file(file)) fail_user("--config: ", file, " not found");
  for (const auto& [key, values] : read_run_file(file)) {
    const std::string name = flag_key(key);
    CLI::Option* o = kNotFromFile.count(name) ? nullptr : sub.get_option_no_throw("--" + name);
    if (o == nullptr) {
      fail_user(file, ": '", key, "' is not a flag of thaw ", sub.get_name(), " (keys are flag names without the dashes: "
                "batch_size or batch-size, lr, epochs, ...; thaw ", sub.get_name(), " --help lists them)");
    }
    if (o->count() > 0) continue;  // the command line wins
    try {
      o->add_result(values);
      o->run_callback();
    } catch (const CLI::Error& e) {
      fail_user(file, ": ", key, ": ", e.what());
    }
  }
}

void apply_record(const std::string& dir, CLI::App& sub, RunConfig& a) {
  const fs::path record_file = fs::path(dir) / "record.json";
  if (!fs::is_regular_file(record_file)) fail_user("--from-record: ", record_file.string(), " not found (expected a thaw run folder)");
  if (a.out.empty()) fail_user("--from-record: give --out, a folder for the new run");
  const std::string name = record_file.string();
  const RunConfig recorded = recorded_config(parse_record(read_file_bytes(record_file), name), name);
  std::set<std::string> given;
  for (const CLI::Option* o : sub.get_options()) {
    if (o->count() > 0) given.insert(field_of(*o));
  }
  if (given.count("val_fraction")) given.insert("held_out");
  given.insert("out");
  given.insert("overwrite");
  json merged = json(recorded);
  const json mine = json(a);
  for (const auto& [k, v] : mine.items()) {
    if (given.count(k)) merged[k] = v;
  }
  a = merged.get<RunConfig>();
}

}  // namespace

void add_run_source_flags(CLI::App* sub, RunSources& s) {
  sub->add_option("--config", s.config,
                  "Options from a YAML or JSON file (keys: flag names without the dashes); flags given here win");
  sub->add_option("--from-record", s.from_record,
                  "Start a new run with a recorded run's options (RUN_DIR/record.json); flags given here and "
                  "--config win; give a new --out");
}

void apply_run_sources(const RunSources& s, CLI::App& sub, RunConfig& a) {
  if (!s.config.empty()) apply_config_file(s.config, sub);
  if (!s.from_record.empty()) apply_record(s.from_record, sub, a);
}

}  // namespace thaw::cli
