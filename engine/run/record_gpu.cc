#include "engine/run/record_gpu.h"

#include <cstdio>
#include <string>

#include "core/error.h"  // cat_str

#if THAW_HAVE_CUDA
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#endif

namespace thaw {

namespace {

#if THAW_HAVE_CUDA
// nvidia-smi's spelling, so that a record can be matched with what the machine's tools print.
std::string uuid_text(const cudaUUID_t& u) {
  std::string out = "GPU-";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(u.bytes[i]));
    out += hex;
  }
  return out;
}

void add_cuda(nlohmann::ordered_json& env) {
  const int device = 0;  // the one GPU a --device cuda run uses (engine/run/train_options.h)
  cudaDeviceProp p{};
  int driver = 0, runtime = 0;
  cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e == cudaSuccess) e = cudaDriverGetVersion(&driver);
  if (e == cudaSuccess) e = cudaRuntimeGetVersion(&runtime);
  if (e != cudaSuccess) {
    env["device"] = cat_str("cuda (unavailable: ", cudaGetErrorString(e), ")");
    return;
  }
  env["device"] = "cuda";
  env["gpus"] = nlohmann::ordered_json::array();
  env["gpus"].push_back({{"ordinal", device},
                         {"name", std::string(p.name)},
                         {"uuid", uuid_text(p.uuid)},
                         {"compute_capability", cat_str(p.major, ".", p.minor)},
                         {"sm_count", p.multiProcessorCount},
                         {"memory_bytes", static_cast<long long>(p.totalGlobalMem)}});
  env["cuda"] = {{"driver", driver},
                 {"runtime", runtime},
                 {"cudnn", static_cast<long long>(cudnnGetVersion())},
                 {"cublaslt", static_cast<long long>(cublasLtGetVersion())}};
}
#endif

}  // namespace

nlohmann::ordered_json gpu_identity(int device) {
#if THAW_HAVE_CUDA
  cudaDeviceProp p{};
  const cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e != cudaSuccess) return {{"gpu", device}, {"error", cudaGetErrorString(e)}};
  return {{"gpu", device}, {"name", std::string(p.name)}, {"uuid", uuid_text(p.uuid)}};
#else
  return {{"gpu", device}, {"error", "this thaw was built without CUDA"}};
#endif
}

void add_device_environment(nlohmann::ordered_json& env, std::string_view device) {
  env["device"] = "cpu";
  env["gpus"] = nlohmann::ordered_json::array();
  if (device != "cuda") return;
#if THAW_HAVE_CUDA
  add_cuda(env);
#else
  env["device"] = "cuda (unavailable: this thaw was built without CUDA)";
#endif
}

}  // namespace thaw
