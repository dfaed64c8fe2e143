#include "engine/run/record_read.h"

#include <ctime>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "core/json_int.h"
#include "io/file_bytes.h"

namespace thaw {

using ojson = nlohmann::ordered_json;

ojson parse_record(std::string_view text, const std::string& name) {
  // nlohmann's parser ends its input at a NUL byte; what followed it would go unread.
  if (text.find('\0') != std::string_view::npos) fail_user(name, ": not valid JSON (a NUL byte)");
  ojson r = ojson::parse(text.begin(), text.end(), nullptr, false);
  if (r.is_discarded() || !r.is_object()) fail_user(name, ": not valid JSON");
  const auto format = r.find("format");
  if (format == r.end() || !format->is_string() || format->get<std::string>() != kRecordFormat) {
    fail_user(name, ": expected format \"", kRecordFormat, "\"");
  }
  if (!r.contains("version") || !r["version"].is_number_integer()) fail_user(name, ": no format version");
  const int64_t v = r["version"].get<int64_t>();
  if (v > kRecordVersion) {
    fail_user(name, ": record format version ", v, " is newer than this thaw reads (", kRecordVersion,
              "); replay it with a newer thaw");
  }
  if (v < 1) fail_user(name, ": bad record format version ", v);
  // The counts replay, resume and export read as integers.
  for (const char* pointer : {"/N", "/V", "/resolved/classes", "/resolved/input_size", "/resolved/total_steps",
                              "/result/steps"}) {
    const ojson::json_pointer at(pointer);
    if (r.contains(at) && !json_holds<int64_t>(r.at(at))) {
      fail_user(name, ": ", pointer + 1, " is ", r.at(at).dump(), ", expected an integer");
    }
  }
  return r;
}

RunConfig recorded_config(const ojson& record, const std::string& name) {
  RunConfig c;
  try {
    const nlohmann::json given = nlohmann::json::parse(record.at("config").dump());
    if (!given.is_object()) fail_user(name, ": \"config\" is not an object");
    const nlohmann::json defaults = RunConfig{};
    // A fraction or an out-of-range number converted to an integer field is undefined behaviour in
    // the conversion itself, so fractions are refused before it and wrapped values after it.
    for (const auto& [key, value] : given.items()) {
      const auto d = defaults.find(key);
      if (d != defaults.end() && d->is_number_integer() && value.is_number_float()) {
        fail_user(name, ": config.", key, " is ", value.dump(), ", expected an integer");
      }
      // The parser keeps only negative integers signed; JSON compares -1 equal to 2^64-1.
      if (d != defaults.end() && d->is_number_unsigned() && value.is_number_integer() && !value.is_number_unsigned()) {
        fail_user(name, ": config.", key, " is ", value.dump(), ", out of range for it");
      }
    }
    given.get_to(c);
    const nlohmann::json back = c;
    for (const auto& [key, value] : given.items()) {
      if (defaults.contains(key) && back.at(key) != value) {
        fail_user(name, ": config.", key, " is ", value.dump(), ", out of range for it");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail_user(name, ": a field is missing or malformed (", e.what(), ")");
  }
  return c;
}

RecordedSteps parse_steps(std::string_view text, const std::string& name) {
  RecordedSteps r;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ++line_no;
    if (end == std::string_view::npos) {
      r.torn_tail = true;
      break;
    }
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ojson j = ojson::parse(line.begin(), line.end(), nullptr, false);
    if (line.find('\0') != std::string_view::npos || j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) {
      fail_user(name, ": line ", line_no, " is not a step record");
    }
    if (j["step"].get<int64_t>() != static_cast<int64_t>(r.lines.size())) {
      fail_user(name, ": line ", line_no, " holds step ", j["step"].dump(), ", expected step ", r.lines.size());
    }
    r.lines.push_back(std::move(j));
  }
  return r;
}

RecordedSteps read_steps(const std::filesystem::path& path) {
  return parse_steps(read_file_bytes(path, "the run folder has no step log"), path.string());
}

std::vector<std::string> differing_fields(const ojson& recorded, const ojson& replayed) {
  std::vector<std::string> out;
  for (const auto& [key, value] : recorded.items()) {
    if (!replayed.contains(key) || replayed[key] != value) out.push_back(key);
  }
  for (const auto& [key, value] : replayed.items()) {
    if (!recorded.contains(key)) out.push_back(key);
  }
  return out;
}

int64_t record_time_seconds(const std::string& t) {
  std::tm tm{};
  std::istringstream in(t);
  in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
  return in.fail() ? 0 : static_cast<int64_t>(timegm(&tm));
}

}  // namespace thaw
