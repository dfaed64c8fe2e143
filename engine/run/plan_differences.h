#pragma once
// A replay's GPU library choices against its record's (record.json result.gpu_plans, one
// "problem: identity" line per cuDNN plan or cuBLASLt algorithm, kernels/cuda/plan_cache.h): the
// replay pins the recorded cuDNN engines (Context::set_pins), and another choice for the same
// problem (a pin the library no longer offers, another cuBLASLt algorithm) can change the bits, so
// replay lists every such difference beside its verdict.
#include <string>
#include <vector>

namespace thaw {

// One line per problem whose choice differs, or that only one side built, in problem order:
// "<problem>: recorded <choice>, now <choice>" (a side that did not build it says "none").
std::vector<std::string> plan_differences(const std::vector<std::string>& recorded, const std::vector<std::string>& now);

}  // namespace thaw
