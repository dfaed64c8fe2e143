#pragma once
// The machine and software a run ran on, as a run record keeps it, and the comparison that replay
// prints before it starts: which differences can change the bits, and which cannot.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace thaw {

// thaw's version and git state, the compiler and flags, OS and kernel, CPU model, cores and
// vector extensions, the OpenMP thread count, the executable's and every loaded shared library's
// path and SHA-256, and the device: "cpu" with no GPUs, or for "cuda" the GPU and the CUDA library
// versions (engine/run/record_gpu.h). Hashing the libraries reads them (~0.5 s with CUDA's libraries
// loaded).
nlohmann::ordered_json capture_environment(std::string_view device = "cpu");

// The device a recorded run trained on (its config's "device"; "cpu" for records older than it).
std::string recorded_device(const nlohmann::ordered_json& record);

struct EnvDifference {
  std::string field;  // e.g. "cpu.model", "library libm.so.6"
  std::string recorded, present;
  bool bit_changing = true;
  std::string why;  // for differences that cannot change the bits: why not
};

// Every difference between two captured environments, the bit-changing ones first.
std::vector<EnvDifference> compare_environments(const nlohmann::ordered_json& recorded,
                                                const nlohmann::ordered_json& present);

}  // namespace thaw
