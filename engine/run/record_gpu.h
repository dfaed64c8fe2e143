#pragma once
// The GPU side of a run record's environment: the card a `--device cuda` run trains on and the
// versions of the CUDA libraries whose arithmetic it uses, each of which can change the bits.
#include <string_view>

#include <nlohmann/json.hpp>

namespace thaw {

// Sets env["device"] and env["gpus"] (one entry: name, UUID, compute capability, SMs, memory) and
// env["cuda"] (driver, runtime, cuDNN and cuBLASLt versions) for `device` "cuda" (GPU 0); leaves
// "cpu" and no GPUs otherwise. Where no GPU can be queried (a build without CUDA, a machine without
// a GPU: met when a GPU run's record is replayed there), the device says "cuda (unavailable: why)"
// and there are no GPUs, so that replay lists it as a difference instead of failing.
void add_device_environment(nlohmann::ordered_json& env, std::string_view device);

// One GPU as a GPU rank's entry in the record: {"gpu": ordinal, "name", "uuid"}, or {"gpu",
// "error"} where it cannot be queried.
nlohmann::ordered_json gpu_identity(int device);

}  // namespace thaw
