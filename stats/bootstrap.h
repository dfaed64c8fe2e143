#pragma once
// Percentile bootstrap intervals from a seeded resampling. A replicate draws as many units as there
// are, with replacement; a unit is a whole group (a patient's images stay together, so the interval
// reflects how many independent patients were seen) or, without groups, a single sample. Unit u of
// draw i in replicate r is floor(U * units) with U = CounterRng(seed, Bootstrap, r, 0) at position
// i, so any replicate can be regenerated alone. A replicate is given to the statistic as a weight
// per sample: how many times that sample was drawn.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace thaw {

struct ResamplingUnits {
  std::vector<std::vector<int64_t>> members;  // sample indices of each unit, units in first-seen order
  int64_t samples = 0;
  bool grouped = false;
};

ResamplingUnits single_samples(int64_t samples);
// Samples with equal labels form one unit.
ResamplingUnits units_from_groups(std::span<const std::string> group_of_sample);

std::vector<int32_t> bootstrap_weights(const ResamplingUnits& units, uint64_t seed, uint32_t replicate);

// Linear interpolation between order statistics (numpy's default): q in [0, 1] over sorted values.
double quantile_sorted(std::span<const double> sorted, double q);

struct BootstrapInterval {
  double lo = 0, hi = 0;       // NaN when no replicate defined the value
  int64_t replicates_used = 0;  // replicates where the value was defined (not NaN)
};

// `statistic(weights, out)` writes `count` values for one replicate; NaN marks a value undefined in
// that replicate (say, a class that was not drawn), which is left out of that value's interval.
using BootstrapStatistic = std::function<void(std::span<const int32_t> weights, std::span<double> out)>;
std::vector<BootstrapInterval> bootstrap_percentile(const ResamplingUnits& units, size_t count, int replicates,
                                                    uint64_t seed, double confidence,
                                                    const BootstrapStatistic& statistic);

}  // namespace thaw
