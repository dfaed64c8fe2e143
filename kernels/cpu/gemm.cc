#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <memory>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace thaw::cpu {

namespace {

// Register tile and cache blocks (AVX2: 12 accumulators of 8 floats). Only kGemmBlockK is part of
// the arithmetic; the others change speed, never bits.
constexpr int64_t kMr = 6, kNr = 16;
constexpr int64_t kMc = 72;    // rows of A packed at once (kMc x kGemmBlockK floats: in L2)
constexpr int64_t kNc = 2048;  // columns of B packed at once (kGemmBlockK x kNc floats: in L3)

// t[r][c] = sum over kk of a[kk][r] * b[kk][c], one fused multiply-add chain from zero per element.
void micro_tile(int64_t kc, const float* a, const float* b, float* t) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 c0[kMr], c1[kMr];
  for (int r = 0; r < kMr; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    for (int r = 0; r < kMr; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);
    }
    a += kMr;
    b += kNr;
  }
  for (int r = 0; r < kMr; ++r) {
    _mm256_storeu_ps(t + r * kNr, c0[r]);
    _mm256_storeu_ps(t + r * kNr + 8, c1[r]);
  }
#else
  for (int64_t i = 0; i < kMr * kNr; ++i) t[i] = 0.0f;
  for (int64_t kk = 0; kk < kc; ++kk) {
    for (int r = 0; r < kMr; ++r) {
      for (int c = 0; c < kNr; ++c) t[r * kNr + c] = std::fma(a[r], b[c], t[r * kNr + c]);
    }
    a += kMr;
    b += kNr;
  }
#endif
}

// A's rows [i0, i0 + mc) and columns [k0, k0 + kc) in panels of kMr rows (zeros past mc).
void pack_a(const MatView& a, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* out) {
  // A transposed view has its rows side by side: walk them innermost (cache lines, not strides).
  const bool by_columns = a.cols.stride != 1 && a.cols.group == 0;
  for (int64_t p = 0; p < mc; p += kMr) {
    const int64_t live = std::min(kMr, mc - p);
    float* panel = out + p * kc;
    for (int64_t r = live; r < kMr; ++r) {
      for (int64_t kk = 0; kk < kc; ++kk) panel[kk * kMr + r] = 0.0f;
    }
    if (by_columns) {
      for (int64_t kk = 0; kk < kc; ++kk) {
        const float* col = a.data + a.cols.at(k0 + kk);
        for (int64_t r = 0; r < live; ++r) panel[kk * kMr + r] = col[a.rows.at(i0 + p + r)];
      }
      continue;
    }
    for (int64_t r = 0; r < live; ++r) {
      const float* row = a.data + a.rows.at(i0 + p + r);
      for (int64_t kk = 0; kk < kc; ++kk) panel[kk * kMr + r] = row[a.cols.at(k0 + kk)];
    }
  }
}

// B's rows [k0, k0 + kc) and columns [j0, j0 + nc) in panels of kNr columns (zeros past n).
void pack_b(const MatView& b, int64_t n, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* out,
            std::vector<int64_t>& col_at) {
  const int64_t panels = (nc + kNr - 1) / kNr;
  col_at.resize(static_cast<size_t>(panels * kNr));
  for (int64_t c = 0; c < panels * kNr; ++c) col_at[static_cast<size_t>(c)] = j0 + c < n ? b.cols.at(j0 + c) : -1;
  // Panels whose columns lie side by side in memory (the common case) are copied as runs.
  std::vector<char> run(static_cast<size_t>(panels));
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t* at = col_at.data() + p * kNr;
    bool contiguous = at[0] >= 0;
    for (int64_t c = 1; c < kNr && contiguous; ++c) contiguous = at[c] == at[0] + c;
    run[static_cast<size_t>(p)] = contiguous ? 1 : 0;
  }
  if (b.rows.stride == 1 && b.rows.group == 0 && b.cols.stride != 1) {
    // A transposed view: each column's values lie side by side; read them in that order.
    for (int64_t p = 0; p < panels; ++p) {
      for (int64_t c = 0; c < kNr; ++c) {
        const int64_t at = col_at[static_cast<size_t>(p * kNr + c)];
        float* dst = out + p * kNr * kc + c;
        if (at < 0) {
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * kNr] = 0.0f;
          continue;
        }
        const float* src = b.data + at + k0;
        for (int64_t kk = 0; kk < kc; ++kk) dst[kk * kNr] = src[kk];
      }
    }
    return;
  }
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float* row = b.data + b.rows.at(k0 + kk);
    for (int64_t p = 0; p < panels; ++p) {
      float* dst = out + p * kNr * kc + kk * kNr;
      const int64_t* at = col_at.data() + p * kNr;
      if (run[static_cast<size_t>(p)]) {
        const float* src = row + at[0];
        for (int64_t c = 0; c < kNr; ++c) dst[c] = src[c];
        continue;
      }
      for (int64_t c = 0; c < kNr; ++c) dst[c] = at[c] >= 0 ? row[at[c]] : 0.0f;
    }
  }
}

// The tile's sums into C: stored (the first block of a product that does not accumulate) or added.
// row_at / col_at: C's offsets of the tile's rows and columns; `run`: the columns are side by side.
void write_tile(const float* t, float* c, const int64_t* row_at, int64_t rows, const int64_t* col_at, int64_t cols,
                bool run, bool store) {
  for (int64_t r = 0; r < rows; ++r) {
    float* crow = c + row_at[r];
    const float* tr = t + r * kNr;
    if (run && cols == kNr) {
      float* dst = crow + col_at[0];
      if (store) {
        for (int64_t q = 0; q < kNr; ++q) dst[q] = tr[q];
      } else {
        for (int64_t q = 0; q < kNr; ++q) dst[q] += tr[q];
      }
      continue;
    }
    for (int64_t q = 0; q < cols; ++q) {
      float& dst = crow[col_at[q]];
      dst = store ? tr[q] : dst + tr[q];
    }
  }
}

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, const MatView& a, const MatView& b, const MutView& c, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) c.at(i, j) = 0.0f;
      }
    }
    return;
  }
  const int64_t kc_max = std::min(k, kGemmBlockK);
  const int64_t nc_max = std::min(n, kNc);
  const auto pa = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(kMc * kc_max));
  const auto pb = std::make_unique_for_overwrite<float[]>(static_cast<size_t>((nc_max + kNr - 1) / kNr * kNr * kc_max));
  std::vector<int64_t> col_at, c_col(static_cast<size_t>(nc_max)), c_row(static_cast<size_t>(m));
  std::vector<char> c_run(static_cast<size_t>((nc_max + kNr - 1) / kNr));
  for (int64_t i = 0; i < m; ++i) c_row[static_cast<size_t>(i)] = c.rows.at(i);
  alignas(32) float t[kMr * kNr];
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    for (int64_t q = 0; q < nc; ++q) c_col[static_cast<size_t>(q)] = c.cols.at(jc + q);
    for (int64_t jr = 0; jr < nc; jr += kNr) {
      bool run = jr + kNr <= nc;
      for (int64_t q = 1; q < kNr && run; ++q) run = c_col[static_cast<size_t>(jr + q)] == c_col[static_cast<size_t>(jr)] + q;
      c_run[static_cast<size_t>(jr / kNr)] = run ? 1 : 0;
    }
    for (int64_t pc = 0; pc < k; pc += kGemmBlockK) {
      const int64_t kc = std::min(kGemmBlockK, k - pc);
      const bool store = pc == 0 && !accumulate;
      pack_b(b, n, pc, kc, jc, nc, pb.get(), col_at);
      for (int64_t ic = 0; ic < m; ic += kMc) {
        const int64_t mc = std::min(kMc, m - ic);
        pack_a(a, ic, mc, pc, kc, pa.get());
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            micro_tile(kc, pa.get() + ir * kc, pb.get() + jr * kc, t);
            write_tile(t, c.data, c_row.data() + ic + ir, std::min(kMr, mc - ir), c_col.data() + jr,
                       std::min(kNr, nc - jr), c_run[static_cast<size_t>(jr / kNr)] != 0, store);
          }
        }
      }
    }
  }
}

void gemm_reference(int64_t m, int64_t n, int64_t k, const MatView& a, const MatView& b, const MutView& c,
                    bool accumulate) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float out = accumulate ? c.at(i, j) : 0.0f;
      for (int64_t k0 = 0; k0 < k; k0 += kGemmBlockK) {
        float s = 0.0f;
        for (int64_t kk = k0; kk < std::min(k, k0 + kGemmBlockK); ++kk) s = std::fma(a.at(i, kk), b.at(kk, j), s);
        out = k0 == 0 && !accumulate ? s : out + s;
      }
      c.at(i, j) = out;
    }
  }
}

}  // namespace thaw::cpu
