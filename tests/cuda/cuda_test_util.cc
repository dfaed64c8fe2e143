#include "tests/cuda/cuda_test_util.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/philox.h"
#include "kernels/cuda/device_query.h"

namespace thaw::cuda_test {

namespace {
constexpr uint64_t kSeed = 20240611;
constexpr int kShowBad = 8;
}  // namespace

void CudaTest::SetUp() {
  std::string why;
  if (cuda::device_count(&why) == 0) GTEST_SKIP() << why;
  ctx_ = std::make_unique<cuda::Context>(0);
}

void CudaTest::TearDown() {
  // Surfaces an asynchronous fault inside the test that caused it, not in a later one.
  if (ctx_) ctx_->synchronize("end of test");
  ctx_.reset();
}

std::vector<float> random_floats(int64_t count, uint32_t stream, float lo, float hi) {
  const CounterRng rng(kSeed, RngPurpose::Synthetic, stream, 0);
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = lo + (hi - lo) * rng.uniform_float_at(static_cast<uint64_t>(i));
  return v;
}

std::vector<uint8_t> random_mask(int64_t count, uint32_t stream, double keep_probability) {
  const CounterRng rng(kSeed, RngPurpose::Synthetic, stream, 1);
  std::vector<uint8_t> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = rng.uniform_double_at(static_cast<uint64_t>(i)) < keep_probability;
  return v;
}

double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

::testing::AssertionResult all_close(const std::string& what, const std::vector<float>& got,
                                     const std::vector<float>& want, const Tolerance& tol) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << what << ": " << got.size() << " elements, expected " << want.size();
  }
  size_t bad = 0, identical = 0, worst_at = 0;
  double max_err = 0.0, worst_ratio = 0.0;
  std::string first_bad;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (std::memcmp(&got[i], &want[i], sizeof(float)) == 0) ++identical;
    const double err = std::fabs(g - w);
    const double allowed = tol.rtol * std::fabs(w) + tol.atol;
    const bool ok = std::isfinite(err) && err <= allowed;
    if (std::isfinite(err)) max_err = std::max(max_err, err);
    const double ratio = !std::isfinite(err) ? INFINITY : (allowed > 0 ? err / allowed : (err > 0 ? INFINITY : 0.0));
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst_at = i;
    }
    if (!ok) {
      if (bad < kShowBad) {
        char line[256];
        std::snprintf(line, sizeof(line), "\n  [%zu] gpu %.9g cpu %.9g |diff| %.3g allowed %.3g", i, g, w, err,
                      allowed);
        first_bad += line;
      }
      ++bad;
    }
  }
  std::printf("[parity] %s: %zu elements, %zu bit-identical, max|err| %.3g, worst err/allowed %.3g at [%zu], %s%s\n",
              what.c_str(), got.size(), identical, max_err, worst_ratio, worst_at, tol.rule.c_str(),
              bad ? " -- FAILED" : "");
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << got.size()
                                       << " elements outside the tolerance (" << tol.rule << "; rtol " << tol.rtol
                                       << ", atol " << tol.atol << "), first ones:" << first_bad;
}

::testing::AssertionResult all_equal(const std::string& what, const std::vector<int32_t>& got,
                                     const std::vector<int32_t>& want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << what << ": " << got.size() << " elements, expected " << want.size();
  }
  size_t bad = 0;
  std::string first_bad;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    if (bad < kShowBad) first_bad += "\n  [" + std::to_string(i) + "] gpu " + std::to_string(got[i]) + " cpu " +
                                     std::to_string(want[i]);
    ++bad;
  }
  std::printf("[parity] %s: %zu elements, %zu differ (exact)\n", what.c_str(), got.size(), bad);
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << got.size() << " differ:" << first_bad;
}

::testing::AssertionResult same_bits(const std::string& what, const std::vector<float>& a,
                                     const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << what << ": sizes " << a.size() << " vs " << b.size();
  size_t differ = 0, first = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      if (differ == 0) first = i;
      ++differ;
    }
  }
  std::printf("[determinism] %s: %zu elements, %zu differ between runs\n", what.c_str(), a.size(), differ);
  if (differ == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << differ << " of " << a.size()
                                       << " elements differ between two runs; first at [" << first << "]: "
                                       << a[first] << " vs " << b[first];
}

}  // namespace thaw::cuda_test
