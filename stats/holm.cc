#include "stats/holm.h"

#include <algorithm>
#include <numeric>

namespace thaw {

std::vector<double> holm_adjust(std::span<const double> p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t i = 0; i < m; ++i) {
    const double scaled = std::min(1.0, static_cast<double>(m - i) * p[order[i]]);
    running = std::max(running, scaled);
    out[order[i]] = running;
  }
  return out;
}

}  // namespace thaw
