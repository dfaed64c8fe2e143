#pragma once
// Reading a run record's files back from their text: record.json (its format and version checked,
// its configuration as a RunConfig) and steps.jsonl. Apart from the writers (engine/run/record.h,
// record_steps.h) so that the fuzz targets (fuzz/) reach them without the rest of the engine.
// Anything malformed is a UserError naming the file; no input makes them throw anything else.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run/run_config.h"

namespace thaw {

inline constexpr const char* kRecordFormat = "thaw-record";
// 2: param_checksum and grad_norm digest the trainable span in blocks (engine/model/digest_rule.h);
// 1 (still read, resumed and replayed): each in one sequential pass.
inline constexpr int kRecordVersion = 2;

// record.json's text: a JSON object of thaw's format, of a version this thaw reads. `name` is used
// in messages.
nlohmann::ordered_json parse_record(std::string_view text, const std::string& name);

// The record's "config" as the RunConfig it was made from (a field missing keeps its default:
// older records ran with it); a missing or mistyped field is a UserError naming `name`.
RunConfig recorded_config(const nlohmann::ordered_json& record, const std::string& name);

struct RecordedSteps {
  std::vector<nlohmann::ordered_json> lines;
  bool torn_tail = false;  // the file ends in a line without its newline (a run killed mid-write): ignored
};

// steps.jsonl's text; a line that is not a JSON object, or steps out of sequence, is a UserError
// naming `name` and the line number.
RecordedSteps parse_steps(std::string_view text, const std::string& name);
RecordedSteps read_steps(const std::filesystem::path& path);

// The fields of the recorded line that differ from the replayed one (every key of either line), in
// the recorded line's order. Empty when the lines are equal.
std::vector<std::string> differing_fields(const nlohmann::ordered_json& recorded, const nlohmann::ordered_json& replayed);

// A record time ("20261206T021513Z", record.json's created_utc) as seconds since 1970; 0 when the
// text is not such a time. The MLflow and TensorBoard exports date a run by it.
int64_t record_time_seconds(const std::string& t);

}  // namespace thaw
