#include "stats/chi_square.h"

#include <algorithm>
#include <limits>

#include <boost/math/distributions/chi_squared.hpp>

#include "core/error.h"

namespace thaw {

ChiSquareTest chi_square_independence(const std::vector<std::vector<int64_t>>& table) {
  std::vector<double> rows, cols;
  std::vector<size_t> keep_r, keep_c;
  const size_t nc = table.empty() ? 0 : table[0].size();
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].size() != nc) fail_user("chi-square test: rows of different lengths");
    double t = 0;
    for (int64_t v : table[i]) t += static_cast<double>(v);
    if (t > 0) {
      keep_r.push_back(i);
      rows.push_back(t);
    }
  }
  for (size_t j = 0; j < nc; ++j) {
    double t = 0;
    for (const auto& r : table) t += static_cast<double>(r[j]);
    if (t > 0) {
      keep_c.push_back(j);
      cols.push_back(t);
    }
  }
  if (rows.size() < 2 || cols.size() < 2) {
    fail_user("chi-square test: needs at least two non-empty rows and two non-empty columns");
  }
  double n = 0;
  for (double r : rows) n += r;
  ChiSquareTest t;
  t.min_expected = std::numeric_limits<double>::infinity();
  for (size_t a = 0; a < rows.size(); ++a) {
    for (size_t b = 0; b < cols.size(); ++b) {
      const double e = rows[a] * cols[b] / n;
      const double d = static_cast<double>(table[keep_r[a]][keep_c[b]]) - e;
      t.statistic += d * d / e;
      t.min_expected = std::min(t.min_expected, e);
    }
  }
  t.df = static_cast<int64_t>((rows.size() - 1) * (cols.size() - 1));
  const boost::math::chi_squared dist(static_cast<double>(t.df));
  t.p = boost::math::cdf(boost::math::complement(dist, t.statistic));
  return t;
}

}  // namespace thaw
