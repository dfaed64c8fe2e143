// Record version 2's digest rule (engine/model/digest_rule.h): the grad norm's and the checksum's
// bits equal a plain reading of docs/record-format.md written out below, for any thread count and
// for parameters that start and end anywhere in a block or a lane group; version 1 keeps the
// one-chain sum and hash.
#include "engine/model/digest_rule.h"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/state_hash.h"

namespace thaw {
namespace {

struct Grads {
  std::vector<std::vector<float>> values, grads;
  std::vector<ParamRef<float>> params;
  explicit Grads(const std::vector<int64_t>& sizes) {
    uint32_t x = 777;
    for (int64_t n : sizes) {
      values.emplace_back(static_cast<size_t>(n), 0.0f);
      grads.emplace_back(static_cast<size_t>(n));
      for (float& g : grads.back()) {
        x = x * 1664525u + 1013904223u;
        // Magnitudes from 1e-6 to 1e3, so that the order of the additions shows in the low bits.
        g = static_cast<float>(static_cast<int32_t>(x)) * 4.7e-10f * std::pow(10.0f, static_cast<float>(x % 7) - 3.0f);
      }
    }
    for (size_t k = 0; k < sizes.size(); ++k) {
      params.push_back({"p" + std::to_string(k), values[k].data(), grads[k].data(), sizes[k], true});
    }
  }
};

// The rule as the record format states it: element k of the gradients laid end to end goes into
// lane k mod 8 of block k / 65536; a block's lanes combine as ((0+1)+(2+3))+((4+5)+(6+7)); the
// blocks add in order.
double reference_sum(const std::vector<ParamRef<float>>& params) {
  std::vector<std::vector<double>> lanes;
  int64_t k = 0;
  for (const ParamRef<float>& p : params) {
    for (int64_t i = 0; i < p.size; ++i, ++k) {
      const auto block = static_cast<size_t>(k / 65536);
      if (lanes.size() <= block) lanes.resize(block + 1, std::vector<double>(8, 0.0));
      const double g = p.grad[i];
      lanes[block][static_cast<size_t>(k % 8)] += g * g;
    }
  }
  double sum = 0;
  for (const std::vector<double>& l : lanes) sum += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  return sum;
}

// The checksum as the record format states it: the values laid end to end, cut into blocks of
// 65536; XXH3 of the previous value and each block's XXH3, all as 8-byte little-endian integers.
uint64_t reference_checksum(uint64_t previous, const std::vector<ParamRef<float>>& params) {
  std::vector<std::vector<unsigned char>> blocks;
  int64_t k = 0;
  for (const ParamRef<float>& p : params) {
    for (int64_t i = 0; i < p.size; ++i, ++k) {
      if (k % 65536 == 0) blocks.emplace_back();
      unsigned char b[4];
      std::memcpy(b, &p.value[i], 4);
      blocks.back().insert(blocks.back().end(), b, b + 4);
    }
  }
  std::vector<uint64_t> words = {previous};
  for (const auto& b : blocks) words.push_back(XXH3_64bits(b.data(), b.size()));
  return XXH3_64bits(words.data(), words.size() * 8);
}

uint64_t bits(double v) { return std::bit_cast<uint64_t>(v); }

// Parameters that end one short of, on, and one past a lane group and a block; an empty one; two
// whole blocks and a tail.
const std::vector<int64_t> kSizes = {1, 7, 8, 9, 65535 - 25, 0, 65537, 3, 2 * 65536 + 5, 0, 11};

TEST(DigestRule, BlockedMatchesTheWrittenRule) {
  const Grads g(kSizes);
  const double want = reference_sum(g.params);
  EXPECT_EQ(bits(blocked_sum_of_squares(g.params)), bits(want));
  EXPECT_EQ(bits(grad_norm(g.params, DigestRule::blocked)), bits(std::sqrt(want)));
  // The rule is not the serial one: these gradients give another last bit in one chain.
  EXPECT_NE(bits(serial_sum_of_squares(g.params)), bits(want));
}

TEST(DigestRule, BlockedChecksumMatchesTheWrittenRule) {
  Grads g(kSizes);
  for (size_t p = 0; p < g.values.size(); ++p) {
    for (size_t i = 0; i < g.values[p].size(); ++i) g.values[p][i] = g.grads[p][(i * 7) % g.grads[p].size()] * 3.0f;
  }
  const uint64_t want = reference_checksum(42, g.params);
  EXPECT_EQ(blocked_checksum(42, g.params), want);
  EXPECT_EQ(param_checksum(42, g.params, DigestRule::blocked), want);
  EXPECT_EQ(step_digest(42, g.params, DigestRule::blocked).checksum, want);
  for (int threads : {1, 2, 3}) EXPECT_EQ(blocked_checksum(42, g.params, threads), want) << threads << " threads";
  EXPECT_NE(param_checksum(42, g.params, DigestRule::serial), want);
  // One ulp anywhere shows: here in the last block.
  g.values.back().back() = std::nextafter(g.values.back().back(), 1e30f);
  EXPECT_NE(blocked_checksum(42, g.params), want);
}

TEST(DigestRule, BlockedIsTheSameForEveryThreadCount) {
  const Grads g(kSizes);
  const uint64_t one = bits(blocked_sum_of_squares(g.params, 1));
  for (int threads : {2, 3, 5}) EXPECT_EQ(bits(blocked_sum_of_squares(g.params, threads)), one) << threads << " threads";
  EXPECT_EQ(bits(step_digest(9, g.params, DigestRule::blocked).grad_norm), bits(std::sqrt(reference_sum(g.params))));
}

TEST(DigestRule, EachRecordVersionHasItsRule) {
  EXPECT_EQ(digest_rule_for_record_version(1), DigestRule::serial);
  EXPECT_EQ(digest_rule_for_record_version(2), DigestRule::blocked);
  // Small exact cases agree under both rules.
  std::vector<float> v(2, 0.f), g1 = {3.f, 0.f}, g2 = {4.f};
  const std::vector<ParamRef<float>> params = {{"a", v.data(), g1.data(), 2, true}, {"b", v.data(), g2.data(), 1, true}};
  EXPECT_EQ(grad_norm(params, DigestRule::serial), 5.0);
  EXPECT_EQ(grad_norm(params, DigestRule::blocked), 5.0);
}

}  // namespace
}  // namespace thaw
