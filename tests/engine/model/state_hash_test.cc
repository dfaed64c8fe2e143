// The run record's hashes against their definitions (docs/record-format.md), recomputed here from
// explicitly laid-out bytes.
#include "engine/model/state_hash.h"

#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "core/sha256.h"
#include "graph/inception_v4.h"

namespace thaw {
namespace {

void put_le(std::vector<unsigned char>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

TEST(RecordHash, HexAndBits) {
  EXPECT_EQ(hex64(0x1234), "0000000000001234");
  EXPECT_EQ(hex64(0xfedcba9876543210ull), "fedcba9876543210");
  EXPECT_EQ(double_bits_hex(1.0), "3ff0000000000000");
  EXPECT_EQ(double_bits_hex(-2.5), "c004000000000000");
}

TEST(RecordHash, BatchHashIsXxh3OfLittleEndianIndices) {
  const std::vector<int64_t> idx = {5, 0, 70000, 3};
  std::vector<unsigned char> bytes;
  for (int64_t i : idx) put_le(bytes, static_cast<uint64_t>(i), 8);
  EXPECT_EQ(batch_hash(idx), XXH3_64bits(bytes.data(), bytes.size()));
  const std::vector<int64_t> swapped = {0, 5, 70000, 3};
  EXPECT_NE(batch_hash(idx), batch_hash(swapped)) << "the order of the batch must count";
}

TEST(RecordHash, ParamChecksumChainsThePreviousValueThenTheFloats) {
  std::vector<float> a = {1.0f, -0.5f, 3.25f}, b = {2.0f};
  std::vector<float> ga(3, 0.f), gb(1, 0.f);
  const std::vector<ParamRef<float>> params = {{"a", a.data(), ga.data(), 3, true}, {"b", b.data(), gb.data(), 1, false}};
  const uint64_t prev = 0x0102030405060708ull;
  std::vector<unsigned char> bytes;
  put_le(bytes, prev, 8);
  for (float v : {1.0f, -0.5f, 3.25f, 2.0f}) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put_le(bytes, u, 4);
  }
  const uint64_t sum = param_checksum(prev, params, DigestRule::serial);
  EXPECT_EQ(sum, XXH3_64bits(bytes.data(), bytes.size()));
  EXPECT_NE(sum, param_checksum(prev + 1, params, DigestRule::serial)) << "the chain must carry";
  a[1] = std::nextafter(a[1], 0.f);
  EXPECT_NE(sum, param_checksum(prev, params, DigestRule::serial)) << "one ulp of one parameter must show";
  // Blocked (record version 2): one block here, so the previous value and that block's hash.
  std::vector<unsigned char> values(bytes.begin() + 8, bytes.end()), chained;
  std::memcpy(values.data() + 4, &a[1], 4);  // the changed parameter
  put_le(chained, prev, 8);
  put_le(chained, XXH3_64bits(values.data(), values.size()), 8);
  const uint64_t blocked = param_checksum(prev, params, DigestRule::blocked);
  EXPECT_EQ(blocked, XXH3_64bits(chained.data(), chained.size()));
  EXPECT_NE(blocked, param_checksum(prev + 1, params, DigestRule::blocked)) << "the chain must carry";
}

TEST(RecordHash, GradDigestRulesSquaresInDouble) {
  std::vector<float> v(2, 0.f), g1 = {3.f, 0.f}, g2 = {4.f};
  const std::vector<ParamRef<float>> params = {{"a", v.data(), g1.data(), 2, true}, {"b", v.data(), g2.data(), 1, true}};
  EXPECT_EQ(grad_norm(params, DigestRule::serial), 5.0);
  // 1e20 squared overflows float but not double.
  std::vector<float> big = {1e20f};
  const std::vector<ParamRef<float>> p2 = {{"c", v.data(), big.data(), 1, true}};
  EXPECT_EQ(grad_norm(p2, DigestRule::serial), static_cast<double>(1e20f));
  EXPECT_EQ(grad_norm(p2, DigestRule::blocked), static_cast<double>(1e20f));
}

// The record's digest gives param_checksum's and grad_norm's bits by either rule, over tensors
// shorter and longer than its runs of 64 and not multiples of them (and, blocked, a block boundary).
TEST(RecordHash, StepDigestGivesTheChecksumAndNormBits) {
  const std::vector<int64_t> sizes = {1, 63, 64, 65, 1025, 70001};
  std::vector<std::vector<float>> values, grads;
  std::vector<ParamRef<float>> params;
  uint32_t x = 12345;
  auto next = [&] {
    x = x * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<int32_t>(x)) * 1e-9f;
  };
  for (int64_t n : sizes) {
    values.emplace_back(static_cast<size_t>(n));
    grads.emplace_back(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) values.back()[static_cast<size_t>(i)] = next(), grads.back()[static_cast<size_t>(i)] = next();
  }
  for (size_t k = 0; k < sizes.size(); ++k) {
    params.push_back({"p" + std::to_string(k), values[k].data(), grads[k].data(), sizes[k], true});
  }
  for (const DigestRule sum : {DigestRule::serial, DigestRule::blocked}) {
    const StepDigest d = step_digest(0x1234, params, sum);
    EXPECT_EQ(d.checksum, param_checksum(0x1234, params, sum));
    EXPECT_EQ(double_bits_hex(d.grad_norm), double_bits_hex(grad_norm(params, sum)));
    EXPECT_GT(d.grad_norm, 0.0);
  }
}

TEST(RecordHash, StateHashCoversEveryTensorAndCounter) {
  const Graph g = build_inception_v4(75, 3, 0.0);
  ModelState<float> s = ModelState<float>::zeros(g);
  for (auto& v : s.values) {
    for (int64_t i = 0; i < v.numel(); i += 97) v[i] = 0.001f * static_cast<float>(i % 1000);
  }
  Sha256 h;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].role == TensorRole::NumBatchesTracked) {
      std::vector<unsigned char> b;
      put_le(b, static_cast<uint64_t>(s.batches_tracked[t]), 8);
      h.update(b.data(), b.size());
    } else {
      h.update(s.values[t].data(), static_cast<size_t>(s.values[t].numel()) * 4);
    }
  }
  const std::string base = state_sha256(g, s);
  EXPECT_EQ(base, h.hex_digest());
  const int counter = [&] {
    for (size_t t = 0; t < g.tensors.size(); ++t) if (g.tensors[t].role == TensorRole::NumBatchesTracked) return int(t);
    return -1;
  }();
  ASSERT_GE(counter, 0);
  s.batches_tracked[counter] = 1;
  EXPECT_NE(state_sha256(g, s), base) << "num_batches_tracked must be covered";
  s.batches_tracked[counter] = 0;
  s.values.back()[0] = std::nextafter(s.values.back()[0], 1.f);
  EXPECT_NE(state_sha256(g, s), base) << "one ulp of the last tensor must show";
}

}  // namespace
}  // namespace thaw
