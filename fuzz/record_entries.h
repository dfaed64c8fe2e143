#pragma once
// The fuzz entries over the run record's readers (engine/run/record_read.h), with the same contract
// as fuzz/fuzz_entries.h: for any bytes, return normally or throw a UserError.
#include <string_view>

#include "core/error.h"
#include "engine/run/record_read.h"

namespace thaw::fuzz {

// record.json: the checks replay and resume make before anything else, and the config they use.
inline void record(std::string_view data) {
  try {
    const nlohmann::ordered_json r = parse_record(data, "fuzz/record.json");
    (void)recorded_config(r, "fuzz/record.json");
  } catch (const UserError&) {
  }
}

// steps.jsonl, and replay's comparison of its lines.
inline void steps(std::string_view data) {
  try {
    const RecordedSteps s = parse_steps(data, "fuzz/steps.jsonl");
    for (const nlohmann::ordered_json& line : s.lines) {
      if (!differing_fields(line, line).empty()) fail_internal("a step line differs from itself");
      (void)differing_fields(s.lines.front(), line);
    }
  } catch (const UserError&) {
  }
}

}  // namespace thaw::fuzz
