#pragma once
// The current time as records and reports write it: UTC, ISO 8601 to the second ("2026-12-06T07:13:42Z").
#include <string>

namespace thaw {

std::string utc_now();

}  // namespace thaw
