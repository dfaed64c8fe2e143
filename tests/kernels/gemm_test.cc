// The convolutions' float product (kernels/cpu/gemm.h): bit for bit its element-by-element
// definition (blocks of kGemmBlockK, one fused multiply-add chain each, added in order) for every
// kind of view it is given (row-major, transposed, samples side by side), sizes that fill no tile,
// and both accumulate modes; so a column's bits do not depend on the other columns.
#include "kernels/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"

namespace thaw {
namespace {

using cpu::Dim;
using cpu::MatView;
using cpu::MutView;

std::vector<float> floats(int64_t n, uint64_t seed) { return testkit::cast_vec<float>(testkit::random_values(n, seed)); }

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Gemm, EqualsItsDefinitionBitForBit) {
  const struct {
    int64_t m, n, k;
  } sizes[] = {{1, 1, 1}, {7, 5, 3}, {6, 16, 256}, {13, 37, 257}, {50, 19, 600}, {73, 2100, 40}};
  for (const auto& s : sizes) {
    for (bool acc : {false, true}) {
      const std::vector<float> a = floats(s.m * s.k, 1), b = floats(s.k * s.n, 2), c0 = floats(s.m * s.n, 3);
      std::vector<float> got = c0, want = c0;
      cpu::gemm(s.m, s.n, s.k, cpu::rows_of(a.data(), s.k), cpu::rows_of(b.data(), s.n), cpu::out_rows(got.data(), s.n),
                acc);
      cpu::gemm_reference(s.m, s.n, s.k, cpu::rows_of(a.data(), s.k), cpu::rows_of(b.data(), s.n),
                          cpu::out_rows(want.data(), s.n), acc);
      EXPECT_TRUE(same(got, want)) << s.m << "x" << s.n << "x" << s.k << (acc ? " accumulating" : "");
    }
  }
}

// A transposed A and B whose columns are samples side by side (3 samples of 7 positions, 100
// floats apart), into a C laid out the same way: the definition's bits again.
TEST(Gemm, StridedAndGroupedViewsGiveTheDefinitionsBits) {
  const int64_t m = 9, k = 300, p = 7, samples = 3, n = p * samples, stride = 100;
  const std::vector<float> at = floats(k * m, 4);  // A^T, row-major k x m
  const std::vector<float> b = floats(stride * samples * k, 5);
  const MatView a{at.data(), {1, 0, 0}, {m, 0, 0}};
  const MatView bv{b.data(), {p, 0, 0}, {1, p, stride * k}};
  std::vector<float> got(static_cast<size_t>(stride * samples * m), 0.0f), want = got;
  const MutView cg{got.data(), {p, 0, 0}, {1, p, stride * m}}, cw{want.data(), {p, 0, 0}, {1, p, stride * m}};
  cpu::gemm(m, n, k, a, bv, cg, false);
  cpu::gemm_reference(m, n, k, a, bv, cw, false);
  EXPECT_TRUE(same(got, want));
}

// Column j of C from a product of all n columns has the bits of the product of column j alone.
TEST(Gemm, AColumnsBitsDoNotDependOnTheOtherColumns) {
  const int64_t m = 40, n = 45, k = 520;
  const std::vector<float> a = floats(m * k, 6), b = floats(k * n, 7);
  std::vector<float> all(static_cast<size_t>(m * n));
  cpu::gemm(m, n, k, cpu::rows_of(a.data(), k), cpu::rows_of(b.data(), n), cpu::out_rows(all.data(), n), false);
  for (int64_t j = 0; j < n; ++j) {
    std::vector<float> one(static_cast<size_t>(m));
    const MatView bj{b.data() + j, {n, 0, 0}, {1, 0, 0}};
    cpu::gemm(m, 1, k, cpu::rows_of(a.data(), k), bj, cpu::out_rows(one.data(), 1), false);
    for (int64_t i = 0; i < m; ++i) ASSERT_EQ(std::memcmp(&one[i], &all[i * n + j], sizeof(float)), 0) << i << "," << j;
  }
}

}  // namespace
}  // namespace thaw
