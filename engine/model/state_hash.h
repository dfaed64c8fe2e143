#pragma once
// The hashes a run record holds, each over a byte string defined here exactly (see
// docs/record-format.md), so that anyone can recompute them from the files.
#include <cstdint>
#include <span>
#include <string>

#include "engine/model/model_state.h"
#include "engine/model/digest_rule.h"
#include "engine/model/param_ref.h"
#include "graph/graph.h"

namespace thaw {

// 16 lower-case hex digits, most significant first (printf "%016llx").
std::string hex64(uint64_t v);
// The IEEE-754 binary64 bits of v as hex64.
std::string double_bits_hex(double v);

// XXH3_64bits (seed 0) of the indices as consecutive 8-byte little-endian signed integers.
uint64_t batch_hash(std::span<const int64_t> indices);

// The chained parameter checksum of a step line: `previous` (the line before's, 0 at step 0) and
// every parameter's values as 4-byte little-endian IEEE-754 floats, parameter after parameter in
// the given order. Serial (record version 1): XXH3_64bits (seed 0) of `previous` as 8 bytes
// little-endian, then the values. Blocked (version 2, engine/model/digest_rule.h): XXH3_64bits of
// `previous`, then each block's XXH3_64bits, all as 8-byte little-endian integers.
uint64_t param_checksum(uint64_t previous, std::span<const ParamRef<float>> params, DigestRule rule);

// sqrt of the sum of squares of every gradient element, each widened to double, added in the
// rule's fixed order (engine/model/digest_rule.h): independent of the thread count.
double grad_norm(std::span<const ParamRef<float>> params, DigestRule rule);

// Both of a run record's step values at once, the same bits as param_checksum and grad_norm (the
// GPU path makes them on the host for every step, over the whole trainable span). Serial: one pass
// hashing the values and summing the squares in interleaved runs, so that the sum's chain of
// dependent additions overlaps the hashing. Blocked: each block hashed and summed in one pass, the
// blocks spread over every core.
struct StepDigest {
  uint64_t checksum = 0;
  double grad_norm = 0;
};
StepDigest step_digest(uint64_t previous, std::span<const ParamRef<float>> params, DigestRule rule);

// SHA-256 of every state_dict entry in graph order: float tensors as 4-byte little-endian floats,
// num_batches_tracked as an 8-byte little-endian signed integer. Names and shapes are implied by
// the graph and not hashed.
std::string state_sha256(const Graph& g, const ModelState<float>& state);

}  // namespace thaw
