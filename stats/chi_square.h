#pragma once
// Pearson's chi-square test of independence of an r x c table of counts (no continuity
// correction), as scipy.stats.chi2_contingency(table, correction=False): statistic
// sum (O - E)^2 / E with E = row total x column total / N, (r-1)(c-1) degrees of freedom.
#include <cstdint>
#include <vector>

namespace thaw {

struct ChiSquareTest {
  double statistic = 0;
  int64_t df = 0;
  double p = 1;
  double min_expected = 0;  // below 5, the chi-square approximation is rough: said where it is shown
};

// Rows and columns with a zero total are left out (they carry no information); a table with fewer
// than two of either left is a UserError.
ChiSquareTest chi_square_independence(const std::vector<std::vector<int64_t>>& table);

}  // namespace thaw
