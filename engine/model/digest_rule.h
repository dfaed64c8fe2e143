#pragma once
// How a run record's step line digests the trainable span (docs/record-format.md: param_checksum
// and grad_norm). Record version 1 runs one sequential chain for each: XXH3 over every value in
// order, and every gradient's square added into one double in order (together about 29 ms of host
// time per step over the 16.4 M values trainable after mixed_6h on this project's machine, more
// than the GPU's whole step there). Version 2 lays the values and gradients end to end, cuts them
// into blocks of kDigestBlock elements, and digests each block on its own: the checksum hashes the
// previous line's value and then each block's XXH3 in block order; the norm sums each block in
// kNormLanes interleaved lanes (element k into lane k mod kNormLanes), combines the lanes pairwise
// and adds the block sums in block order. Both are fixed orders: the bits depend on neither the
// thread count nor the machine's vector width, and version 2's blocks run on every core at once.
#include <cstdint>
#include <span>

#include "engine/model/param_ref.h"

namespace thaw {

enum class DigestRule { serial, blocked };

inline constexpr int64_t kDigestBlock = 65536;  // a multiple of kNormLanes
inline constexpr int kNormLanes = 8;

// The rule of a record of that format version: 1 serial, 2 and later blocked.
DigestRule digest_rule_for_record_version(int64_t version);

// Whole-span versions. `threads` > 0 caps the OpenMP threads; the result is the same for every count.
double serial_sum_of_squares(std::span<const ParamRef<float>> params);
double blocked_sum_of_squares(std::span<const ParamRef<float>> params, int threads = 0);
uint64_t blocked_checksum(uint64_t previous, std::span<const ParamRef<float>> params, int threads = 0);
// Both at once, each block's values and gradients read in one pass (a step line's digest).
struct BlockedDigest {
  uint64_t checksum = 0;
  double sum_of_squares = 0;
};
BlockedDigest blocked_digest(uint64_t previous, std::span<const ParamRef<float>> params, int threads = 0);

}  // namespace thaw
