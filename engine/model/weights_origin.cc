#include "engine/model/weights_origin.h"

#include <charconv>
#include <cmath>

#include "core/error.h"
#include "graph/network.h"
#include "io/safetensors.h"

namespace thaw {

namespace {

// A tensor that only one architecture's timm state_dict has.
struct Signature {
  const char* arch;
  const char* tensor;
};
constexpr Signature kSignatures[] = {{"inception_v4", "features.0.conv.weight"},
                                     {"inception_v3", "Conv2d_1a_3x3.conv.weight"}};

bool parse_bool(const std::string& path, const std::string& key, const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  fail_user(path, ": metadata ", key, " is '", v, "', expected true or false");
}

double parse_eps(const std::string& path, const std::string& key, const std::string& v) {
  size_t used = 0;
  double eps = 0;
  try {
    eps = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || !std::isfinite(eps) || eps <= 0) {
    fail_user(path, ": metadata ", key, " is '", v, "', expected a positive number");
  }
  return eps;
}

}  // namespace

WeightsOrigin read_weights_origin(const std::filesystem::path& path, const std::string& fallback_arch) {
  const SafeTensorsFile file = SafeTensorsFile::read(path);
  const std::string where = path.string();
  WeightsOrigin o;
  const auto& meta = file.metadata();
  if (const auto it = meta.find("arch"); it != meta.end()) {
    o.arch = it->second;
    o.evidence = "its metadata says arch " + it->second;
  } else {
    for (const Signature& s : kSignatures) {
      if (file.has(s.tensor)) {
        o.arch = s.arch;
        o.evidence = cat_str("it has the tensor ", s.tensor);
        break;
      }
    }
  }
  const std::string defaults_of = o.arch.empty() ? fallback_arch : o.arch;
  bool known = false;
  for (std::string_view a : kArchitectures) known = known || a == defaults_of;
  o.conventions = known ? default_conventions(defaults_of) : LayerConventions{};
  if (const auto it = meta.find(kMetaAvgpoolCountPad); it != meta.end()) {
    o.conventions.avgpool_count_pad = parse_bool(where, kMetaAvgpoolCountPad, it->second);
  }
  if (const auto it = meta.find(kMetaBnEps); it != meta.end()) {
    o.conventions.bn_eps = parse_eps(where, kMetaBnEps, it->second);
  }
  return o;
}

WeightsOrigin check_weights_arch(const std::string& arch, const std::string& weights) {
  check_arch(arch);
  WeightsOrigin o = read_weights_origin(weights, arch);
  if (!o.arch.empty() && o.arch != arch) {
    fail_user("--weights ", weights, ": holds ", o.arch, " weights (", o.evidence, ") but --arch is ", arch,
              "; give --arch ", o.arch, " or other weights");
  }
  return o;
}

Graph build_graph_for(const std::string& arch, int64_t input_size, int64_t num_classes, double dropout,
                      const std::string& weights) {
  check_arch(arch);
  if (weights.empty()) return build_network(arch, input_size, num_classes, dropout);
  const WeightsOrigin o = check_weights_arch(arch, weights);
  return build_network(arch, input_size, num_classes, dropout, o.conventions);
}

std::map<std::string, std::string> conventions_metadata(const Graph& g) {
  // The shortest text that reads back as the same double ("0.001").
  char eps[32];
  const auto end = std::to_chars(eps, eps + sizeof eps, g.conventions.bn_eps).ptr;
  return {{kMetaAvgpoolCountPad, g.conventions.avgpool_count_pad ? "true" : "false"},
          {kMetaBnEps, std::string(eps, end)}};
}

}  // namespace thaw
