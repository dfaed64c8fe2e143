#include "graph/network.h"

#include <string>

#include "core/error.h"
#include "graph/inception_v3.h"
#include "graph/inception_v4.h"

namespace thaw {

void check_arch(std::string_view arch) {
  for (std::string_view a : kArchitectures) {
    if (a == arch) return;
  }
  std::string valid;
  for (std::string_view a : kArchitectures) valid += std::string(valid.empty() ? "" : " or ") + std::string(a);
  fail_user("--arch: expected ", valid, ", got '", arch, "'");
}

LayerConventions default_conventions(std::string_view arch) {
  check_arch(arch);
  // timm's inception_v3 pools with F.avg_pool2d's default count_include_pad=True; its
  // inception_v4 asks for count_include_pad=False. Both use batch norm eps 1e-3.
  return {.avgpool_count_pad = arch == "inception_v3", .bn_eps = 1e-3};
}

Graph build_network(std::string_view arch, int64_t input_size, int64_t num_classes, double dropout,
                    const LayerConventions& conventions) {
  check_arch(arch);
  if (arch == "inception_v3") return build_inception_v3(input_size, num_classes, dropout, conventions);
  return build_inception_v4(input_size, num_classes, dropout, conventions);
}

}  // namespace thaw
