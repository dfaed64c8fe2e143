#pragma once
// Finite-difference gradient checker, in double, for kernel tests and engine tests alike.
//
// Given a scalar loss L of some named tensors (the loss reads their current values) and the
// analytic dL/d(tensor) at the current point, each checked coordinate is compared with the central
// difference (L(v + h) - L(v - h)) / 2h by the relative error |a - n| / max(1, |a|, |n|): the
// scale is floored at 1 so that tiny gradients are judged absolutely.
//
// Non-smooth ops (ReLU at 0, max-pool ties) make the difference meaningless near a kink. The
// caller may give a branch signature (the ReLU signs, the max-pool winners: whatever selects
// the smooth piece); a coordinate whose perturbation by +-kink_window changes the signature is
// reported apart, in near_kinks, and never fails the check.
//
// Use (the tensors are std::vector<double>; the loss re-runs the forward on their current values):
//   auto loss = [&] { forward(x, w, y); return dot(r, y); };
//   const auto report = thaw::testkit::check_gradients(loss, {{"x", x, dx}, {"w", w, dw}});
//   EXPECT_TRUE(report.ok()) << report.describe();
// The namespace is testkit, not testing, so that `testing::` inside namespace thaw still means gtest.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/philox.h"

namespace thaw::testkit {

struct GradInput {
  std::string name;
  std::span<double> values;           // perturbed in place, restored before the check returns
  std::span<const double> analytic;   // dL/dvalues at the unperturbed point
};

struct GradCheckOptions {
  double step = 1e-4;        // h of the central difference
  double threshold = 1e-6;   // largest accepted relative error
  int64_t max_per_tensor = 0;  // 0 checks every coordinate, else a fixed sample of this many
  uint64_t seed = 1;           // chooses the sample
  // Optional branch signature; with it, a coordinate within kink_window (0: use step) of a kink
  // is reported in near_kinks instead of being judged.
  std::function<std::vector<int64_t>()> branches;
  double kink_window = 0;
};

struct GradMismatch {
  std::string tensor;
  int64_t index = 0;
  double analytic = 0, numeric = 0, rel_error = 0;
};

struct GradCheckReport {
  int64_t checked = 0;
  std::vector<GradMismatch> failures;
  std::vector<GradMismatch> near_kinks;  // not judged
  bool ok() const { return failures.empty() && checked > 0; }

  std::string describe(size_t max_lines = 10) const {
    std::ostringstream os;
    os.precision(10);
    os << "gradient check: " << checked << " coordinates judged, " << failures.size() << " failed, "
       << near_kinks.size() << " near a kink";
    for (size_t i = 0; i < failures.size() && i < max_lines; ++i) {
      const auto& f = failures[i];
      os << "\n  " << f.tensor << "[" << f.index << "]: analytic " << f.analytic << " numeric " << f.numeric
         << " rel error " << f.rel_error;
    }
    return os.str();
  }
};

inline double grad_rel_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) / std::max({1.0, std::abs(analytic), std::abs(numeric)});
}

// Which coordinates of a tensor of `count` elements to check: all, or a fixed sample chosen by
// the seed and the tensor name (a partial Fisher-Yates shuffle), returned in ascending order.
inline std::vector<int64_t> grad_sample(int64_t count, int64_t max_count, uint64_t seed, const std::string& name) {
  std::vector<int64_t> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  if (max_count <= 0 || max_count >= count) return idx;
  const CounterRng rng(seed, RngPurpose::Synthetic, hash32(name), 0x67726164u);
  for (int64_t i = 0; i < max_count; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.u32_at(static_cast<uint64_t>(i)) % static_cast<uint64_t>(count - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(static_cast<size_t>(max_count));
  std::sort(idx.begin(), idx.end());
  return idx;
}

inline GradCheckReport check_gradients(const std::function<double()>& loss, const std::vector<GradInput>& inputs,
                                       const GradCheckOptions& opt = {}) {
  GradCheckReport report;
  const double window = opt.kink_window > 0 ? opt.kink_window : opt.step;
  const std::vector<int64_t> base_branches = opt.branches ? opt.branches() : std::vector<int64_t>{};
  for (const GradInput& in : inputs) {
    if (in.values.size() != in.analytic.size()) {
      report.failures.push_back({in.name + " (analytic gradient has " + std::to_string(in.analytic.size()) +
                                     " elements, values " + std::to_string(in.values.size()) + ")",
                                 -1, 0, 0, 0});
      continue;
    }
    for (const int64_t i : grad_sample(static_cast<int64_t>(in.values.size()), opt.max_per_tensor, opt.seed, in.name)) {
      double& v = in.values[static_cast<size_t>(i)];
      const double v0 = v;
      bool near_kink = false;
      if (opt.branches) {
        v = v0 + window;
        near_kink = opt.branches() != base_branches;
        v = v0 - window;
        near_kink = near_kink || opt.branches() != base_branches;
      }
      v = v0 + opt.step;
      const double up = loss();
      v = v0 - opt.step;
      const double down = loss();
      v = v0;
      const double numeric = (up - down) / (2 * opt.step);
      const double analytic = in.analytic[static_cast<size_t>(i)];
      const GradMismatch m{in.name, i, analytic, numeric, grad_rel_error(analytic, numeric)};
      if (near_kink) {
        report.near_kinks.push_back(m);
        continue;
      }
      ++report.checked;
      // Written so that a NaN on either side fails.
      if (!(m.rel_error <= opt.threshold)) report.failures.push_back(m);
    }
  }
  return report;
}

}  // namespace thaw::testkit
