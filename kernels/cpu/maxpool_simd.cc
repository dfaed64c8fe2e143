#include "kernels/cpu/maxpool_simd.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace thaw::cpu {

#if defined(__AVX2__)
namespace {

constexpr int64_t kLanes = 8;

// Eight cells s apart from p: a plain load for stride 1, the even lanes of sixteen for stride 2.
__m256 load_strided(const float* p, int64_t s) {
  if (s == 1) return _mm256_loadu_ps(p);
  const __m256i evens_first = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p), evens_first);
  const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(p + kLanes), evens_first);
  return _mm256_permute2f128_ps(lo, hi, 0x20);
}

}  // namespace

int64_t maxpool_row_simd(const PoolGeom& g, const float* plane, int64_t oh, int64_t ow0, int64_t count, float* y,
                         int32_t* argmax) {
  const int64_t s = g.stride;
  if (s != 1 && s != 2) return 0;
  // A block's last read: column (ow + 7) s - pad + (k - 1), plus the odd lane after it at stride 2.
  const int64_t reach = s == 1 ? 0 : 1;
  const __m256i lane_step = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane_cells = _mm256_mullo_epi32(lane_step, _mm256_set1_epi32(static_cast<int32_t>(s)));
  int64_t done = 0;
  for (; done + kLanes <= count; done += kLanes) {
    const int64_t ow = ow0 + done, w_first = ow * s - g.pad;
    if ((ow + kLanes - 1) * s - g.pad + g.k - 1 + reach >= g.w_in) break;
    const int64_t h_first = oh * s - g.pad;
    __m256 best = _mm256_setzero_ps();
    __m256i best_at = _mm256_setzero_si256();
    for (int64_t ki = 0; ki < g.k; ++ki) {
      for (int64_t kj = 0; kj < g.k; ++kj) {
        const int64_t cell = (h_first + ki) * g.w_in + w_first + kj;
        const __m256 v = load_strided(plane + cell, s);
        const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(cell)), lane_cells);
        if (ki == 0 && kj == 0) {
          best = v, best_at = at;
          continue;
        }
        const __m256 greater = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, v, greater);
        best_at = _mm256_castps_si256(
            _mm256_blendv_ps(_mm256_castsi256_ps(best_at), _mm256_castsi256_ps(at), greater));
      }
    }
    _mm256_storeu_ps(y + done, best);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + done), best_at);
  }
  return done;
}

#else

int64_t maxpool_row_simd(const PoolGeom&, const float*, int64_t, int64_t, int64_t, float*, int32_t*) { return 0; }

#endif

}  // namespace thaw::cpu
