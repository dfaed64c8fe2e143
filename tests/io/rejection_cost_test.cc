// The measure the limit tests rely on (tests/support/rejection_cost.h) sees what a rejection costs:
// one that touches 300 MB before refusing is measured at 300 MB, whatever the test process holds.
#include <gtest/gtest.h>

#include "tests/support/same_bytes.h"

#include <vector>

#include "core/error.h"
#include "tests/support/rejection_cost.h"

namespace thaw {
namespace {

// Under AddressSanitizer (scripts/sanitize-test) every 8 bytes touched cost one more of shadow.
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kShadowMib = 300 / 8;
#else
constexpr int64_t kShadowMib = 0;
#endif

TEST(RejectionCost, MeasuresTheMemoryAndMessageOfARejection) {
  std::vector<char> held(size_t{64} << 20, 1);  // the parent's own memory is not the child's growth
  const testkit::RejectionCost c = testkit::rejection_cost([] {
    std::vector<char> touched(size_t{300} << 20, 1);
    fail_user("big.bin: refused after ", touched.size() + touched[12345] - 1, " bytes");
  });
  EXPECT_EQ(c.message, "big.bin: refused after 314572800 bytes");
  EXPECT_GE(c.extra_rss_kib, 290 * 1024);
  EXPECT_LT(c.extra_rss_kib, (340 + kShadowMib) * 1024);
  EXPECT_EQ(held[7], 1);
  const testkit::RejectionCost cheap = testkit::rejection_cost([] { fail_user("small"); });
  EXPECT_EQ(cheap.message, "small");
  EXPECT_LT(cheap.extra_rss_kib, 10 * 1024);
}

}  // namespace
}  // namespace thaw
