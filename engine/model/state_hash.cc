#include "engine/model/state_hash.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"

namespace thaw {

// Every hash below feeds memory as it lies, which is the documented little-endian byte order only
// on a little-endian machine.
static_assert(std::endian::native == std::endian::little, "run-record hashes assume a little-endian host");

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string double_bits_hex(double v) { return hex64(std::bit_cast<uint64_t>(v)); }

uint64_t batch_hash(std::span<const int64_t> indices) {
  return XXH3_64bits(indices.data(), indices.size_bytes());
}

uint64_t param_checksum(uint64_t previous, std::span<const ParamRef<float>> params, DigestRule rule) {
  if (rule == DigestRule::blocked) return blocked_checksum(previous, params);
  XXH3_state_t* st = XXH3_createState();
  if (st == nullptr) fail_internal("xxhash: cannot allocate a hash state");
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, &previous, sizeof previous);
  for (const ParamRef<float>& p : params) {
    XXH3_64bits_update(st, p.value, static_cast<size_t>(p.size) * sizeof(float));
  }
  const uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

double grad_norm(std::span<const ParamRef<float>> params, DigestRule rule) {
  return std::sqrt(rule == DigestRule::serial ? serial_sum_of_squares(params) : blocked_sum_of_squares(params));
}

StepDigest step_digest(uint64_t previous, std::span<const ParamRef<float>> params, DigestRule rule) {
  if (rule == DigestRule::blocked) {
    const BlockedDigest d = blocked_digest(previous, params);
    return {d.checksum, std::sqrt(d.sum_of_squares)};
  }
  // Runs of 64 values: over 16.4 M values and gradients (frozen through mixed_6h) 44.5 ms against
  // 53.3 ms for the two passes on this project's machine; runs of 1024 gave 48.7 ms.
  constexpr int64_t kRun = 64;
  XXH3_state_t* st = XXH3_createState();
  if (st == nullptr) fail_internal("xxhash: cannot allocate a hash state");
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, &previous, sizeof previous);
  double sum = 0;
  for (const ParamRef<float>& p : params) {
    for (int64_t at = 0; at < p.size; at += kRun) {
      const int64_t n = std::min(kRun, p.size - at);
      XXH3_64bits_update(st, p.value + at, static_cast<size_t>(n) * sizeof(float));
      for (int64_t i = at; i < at + n; ++i) {
        const double g = p.grad[i];
        sum += g * g;
      }
    }
  }
  StepDigest d{XXH3_64bits_digest(st), std::sqrt(sum)};
  XXH3_freeState(st);
  return d;
}

std::string state_sha256(const Graph& g, const ModelState<float>& state) {
  Sha256 h;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].role == TensorRole::NumBatchesTracked) {
      const int64_t n = state.batches_tracked[t];
      h.update(&n, sizeof n);
    } else {
      const Tensor<float>& v = state.values[t];
      h.update(v.data(), static_cast<size_t>(v.numel()) * sizeof(float));
    }
  }
  return h.hex_digest();
}

}  // namespace thaw
