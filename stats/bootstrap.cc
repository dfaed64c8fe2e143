#include "stats/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.h"
#include "core/philox.h"

namespace thaw {

ResamplingUnits single_samples(int64_t samples) {
  ResamplingUnits u;
  u.samples = samples;
  u.members.resize(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) u.members[static_cast<size_t>(i)] = {i};
  return u;
}

ResamplingUnits units_from_groups(std::span<const std::string> group_of_sample) {
  ResamplingUnits u;
  u.samples = static_cast<int64_t>(group_of_sample.size());
  u.grouped = true;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < group_of_sample.size(); ++i) {
    const auto [it, fresh] = index.emplace(group_of_sample[i], u.members.size());
    if (fresh) u.members.emplace_back();
    u.members[it->second].push_back(static_cast<int64_t>(i));
  }
  return u;
}

std::vector<int32_t> bootstrap_weights(const ResamplingUnits& units, uint64_t seed, uint32_t replicate) {
  const CounterRng rng(seed, RngPurpose::Bootstrap, replicate, 0);
  const size_t count = units.members.size();
  std::vector<int32_t> w(static_cast<size_t>(units.samples), 0);
  for (size_t i = 0; i < count; ++i) {
    const double u = rng.uniform_double_at(i);
    const size_t unit = std::min(count - 1, static_cast<size_t>(u * static_cast<double>(count)));
    for (const int64_t s : units.members[unit]) ++w[static_cast<size_t>(s)];
  }
  return w;
}

double quantile_sorted(std::span<const double> sorted, double q) {
  THAW_CHECK(!sorted.empty(), "no values");
  const double h = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  const double frac = h - static_cast<double>(below);
  return sorted[below] + frac * (sorted[below + 1] - sorted[below]);
}

std::vector<BootstrapInterval> bootstrap_percentile(const ResamplingUnits& units, size_t count, int replicates,
                                                    uint64_t seed, double confidence,
                                                    const BootstrapStatistic& statistic) {
  THAW_CHECK(replicates >= 1, replicates);
  std::vector<std::vector<double>> values(count);
  std::vector<double> out(count);
  for (int r = 0; r < replicates; ++r) {
    const std::vector<int32_t> w = bootstrap_weights(units, seed, static_cast<uint32_t>(r));
    std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
    statistic(w, out);
    for (size_t k = 0; k < count; ++k) {
      if (!std::isnan(out[k])) values[k].push_back(out[k]);
    }
  }
  const double tail = (1.0 - confidence) / 2.0;
  std::vector<BootstrapInterval> result(count);
  for (size_t k = 0; k < count; ++k) {
    std::vector<double>& v = values[k];
    result[k].replicates_used = static_cast<int64_t>(v.size());
    if (v.empty()) {
      result[k].lo = result[k].hi = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    std::sort(v.begin(), v.end());
    result[k].lo = quantile_sorted(v, tail);
    result[k].hi = quantile_sorted(v, 1.0 - tail);
  }
  return result;
}

}  // namespace thaw
