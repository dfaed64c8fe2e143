#pragma once
// The provenance table of a sweep's report: per finished arm its run id, steps, and the SHA-256 of
// its weights and record, and the thaw that trained it (study/run_provenance.h), so that every row of
// the comparison points at the bytes it came from.
#include <string>

#include <nlohmann/json.hpp>

namespace thaw {

// Empty strings when no arm has provenance (documents of older sweeps).
std::string arm_provenance_markdown(const nlohmann::json& sweep);
std::string arm_provenance_html(const nlohmann::json& sweep);

}  // namespace thaw
