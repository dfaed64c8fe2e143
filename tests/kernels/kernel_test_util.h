#pragma once
// Small helpers shared by the kernel tests: reproducible random tensors and conversions.
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/philox.h"

namespace thaw::testkit {

// Uniform values in [lo, hi), a pure function of (stream, index).
inline std::vector<double> random_values(int64_t count, uint32_t stream, double lo = -1.0, double hi = 1.0) {
  const CounterRng rng(20240611, RngPurpose::Synthetic, stream, 0);
  std::vector<double> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = lo + (hi - lo) * rng.uniform_double_at(static_cast<uint64_t>(i));
  return v;
}

template <typename T>
std::vector<T> cast_vec(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

inline std::vector<double> difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Sets the OpenMP thread count for a scope. Gradient checks run their thousands of tiny forwards
// on one thread: a parallel region per call costs more than the work, badly so on a loaded machine.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : before_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ScopedThreads() { omp_set_num_threads(before_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int before_;
};

template <typename F>
auto with_threads(int n, F&& f) {
  const ScopedThreads scope(n);
  return f();
}

}  // namespace thaw::testkit
