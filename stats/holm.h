#pragma once
// Holm's step-down correction for a family of tests (statsmodels' multipletests(method='holm'),
// not its Holm-Sidak default): with the p-values sorted ascending, the i-th (1-based) of m is
// multiplied by m - i + 1, capped at 1, and made non-decreasing along the order. Returned in the
// input's order.
#include <span>
#include <vector>

namespace thaw {

std::vector<double> holm_adjust(std::span<const double> p);

}  // namespace thaw
