#include "engine/run/record_env.h"

#include <link.h>
#include <omp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/sha256.h"
#include "engine/run/record_gpu.h"
#include "thaw_build_info.h"

namespace thaw {

namespace {

using ojson = nlohmann::ordered_json;

struct CpuInfo {
  std::string model;
  int logical_cores = 0;
  std::vector<std::string> flags;
};

// The first processor's model and flags (x86 "model name" / "flags"; ARM "Features").
CpuInfo read_cpuinfo() {
  CpuInfo c;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "processor") ++c.logical_cores;
    if (c.logical_cores > 1) continue;
    if (key == "model name" && c.model.empty()) c.model = value;
    if ((key == "flags" || key == "Features") && c.flags.empty()) {
      std::istringstream words(value);
      for (std::string w; words >> w;) c.flags.push_back(w);
    }
  }
  if (c.model.empty()) c.model = "unknown";
  return c;
}

// The flags that choose code paths in the arithmetic (glibc's libm and Eigen dispatch on them):
// SIMD and FMA families. Virtualisation and security flags that differ between hosts of one CPU
// model are left out, so they do not read as differences.
constexpr const char* kVectorPrefixes[] = {"sse", "ssse", "avx", "fma", "f16c", "amx", "xop", "mmx",
                                           "3dnow", "asimd", "sve", "neon", "fp16", "bf16", "i8mm"};

bool is_vector_extension(const std::string& f) {
  const auto& kPrefixes = kVectorPrefixes;
  return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                     [&](const char* p) { return f.rfind(p, 0) == 0; });
}

std::vector<std::string> loaded_libraries() {
  std::vector<std::string> paths;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const char* name = info->dlpi_name;
        // The executable has an empty name; the vDSO a bare one and no file.
        if (name != nullptr && name[0] == '/') static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &paths);
  return paths;
}

std::string file_hash_or_note(const std::string& path) {
  try {
    return sha256_file_hex(path);
  } catch (const std::exception&) {
    return "unreadable";
  }
}

std::string str(const ojson& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::string basename(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

ojson capture_environment(std::string_view device) {
  ojson env;
  env["thaw"] = {{"version", THAW_VERSION},
                 {"git_describe", THAW_GIT_DESCRIBE},
                 {"git_commit", THAW_GIT_COMMIT},
                 {"dirty", THAW_GIT_DIRTY}};
  env["build"] = {{"compiler", THAW_CXX_COMPILER_ID},
                  {"compiler_version", THAW_CXX_COMPILER_VERSION},
                  {"build_type", THAW_BUILD_TYPE},
                  {"cxx_flags", THAW_CXX_FLAGS},
                  {"march", THAW_CPU_ARCH}};
  utsname u{};
  uname(&u);
  env["os"] = {{"sysname", u.sysname}, {"release", u.release}, {"version", u.version}, {"machine", u.machine}};
  const CpuInfo cpu = read_cpuinfo();
  std::vector<std::string> vec;
  std::copy_if(cpu.flags.begin(), cpu.flags.end(), std::back_inserter(vec), is_vector_extension);
  std::sort(vec.begin(), vec.end());
  env["cpu"] = {{"model", cpu.model}, {"logical_cores", cpu.logical_cores}, {"vector_extensions", vec}};
  env["openmp_threads"] = omp_get_max_threads();
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  env["executable"] = {{"path", exe}, {"sha256", file_hash_or_note(exe)}};
  ojson libs = ojson::array();
  for (const std::string& p : loaded_libraries()) libs.push_back({{"path", p}, {"sha256", file_hash_or_note(p)}});
  env["libraries"] = libs;
  add_device_environment(env, device);
  return env;
}

std::string recorded_device(const ojson& record) {
  if (!record.contains("config") || !record["config"].is_object()) return "cpu";
  const ojson& c = record["config"];
  return c.contains("device") && c["device"].is_string() ? c["device"].get<std::string>() : "cpu";
}

std::vector<EnvDifference> compare_environments(const ojson& rec, const ojson& now) {
  std::vector<EnvDifference> out;
  const auto field = [&](const std::string& section, const std::string& key, bool bit_changing,
                         const std::string& why = "") {
    const ojson a = rec.contains(section) && rec[section].contains(key) ? rec[section][key] : ojson();
    const ojson b = now.contains(section) && now[section].contains(key) ? now[section][key] : ojson();
    if (a != b) out.push_back({section + "." + key, str(a), str(b), bit_changing, why});
  };
  const auto top = [&](const std::string& key, bool bit_changing, const std::string& why = "") {
    const ojson a = rec.contains(key) ? rec[key] : ojson();
    const ojson b = now.contains(key) ? now[key] : ojson();
    if (a != b) out.push_back({key, str(a), str(b), bit_changing, why});
  };
  for (const char* k : {"version", "git_describe", "git_commit", "dirty"}) field("thaw", k, true);
  for (const char* k : {"compiler", "compiler_version", "build_type", "cxx_flags", "march"}) field("build", k, true);
  field("cpu", "model", true);
  field("cpu", "vector_extensions", true);
  field("os", "machine", true);
  field("executable", "sha256", true);
  top("device", true);
  for (const char* k : {"driver", "runtime", "cudnn", "cublaslt"}) field("cuda", k, true);
  // Another card of the same model gives the same bits: its UUID and memory size are noted apart.
  const auto gpu = [](const ojson& env, const char* key) {
    ojson out = ojson::array();
    if (!env.contains("gpus")) return out;
    for (const auto& g : env["gpus"]) out.push_back(g.contains(key) ? g[key] : ojson());
    return out;
  };
  for (const char* k : {"name", "compute_capability", "sm_count"}) {
    if (gpu(rec, k) != gpu(now, k)) {
      out.push_back({std::string("gpus.") + k, str(gpu(rec, k)), str(gpu(now, k)), true, ""});
    }
  }
  for (const char* k : {"uuid", "memory_bytes"}) {
    if (gpu(rec, k) != gpu(now, k)) {
      out.push_back({std::string("gpus.") + k, str(gpu(rec, k)), str(gpu(now, k)), false,
                     "another card of the same model and compute capability runs the same kernels"});
    }
  }

  // Libraries by file name: the same library may load from /lib or /usr/lib.
  std::map<std::string, std::string> a, b;
  const auto by_name = [](const ojson& env, std::map<std::string, std::string>& out) {
    if (!env.contains("libraries")) return;
    for (const auto& l : env["libraries"]) out[basename(l.value("path", ""))] = l.value("sha256", "");
  };
  by_name(rec, a);
  by_name(now, b);
  std::set<std::string> names;
  for (const auto& [k, v] : a) names.insert(k);
  for (const auto& [k, v] : b) names.insert(k);
  for (const std::string& n : names) {
    const std::string ra = a.count(n) ? a[n] : "not loaded";
    const std::string rb = b.count(n) ? b[n] : "not loaded";
    if (ra != rb) out.push_back({"library " + n, ra, rb, true, ""});
  }

  field("os", "release", false, "the kernel does no arithmetic of thaw's");
  field("os", "version", false, "the kernel does no arithmetic of thaw's");
  field("cpu", "logical_cores", false, "work is split by shapes, never by the core count");
  field("executable", "path", false, "the executable's bytes are compared by hash");
  top("openmp_threads", false, "by design, every sum has a fixed order whatever the thread count");
  std::stable_partition(out.begin(), out.end(), [](const EnvDifference& d) { return d.bit_changing; });
  return out;
}

}  // namespace thaw
