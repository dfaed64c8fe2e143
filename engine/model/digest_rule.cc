#include "engine/model/digest_rule.h"

#include <omp.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <vector>

#include "core/error.h"

namespace thaw {

static_assert(std::endian::native == std::endian::little, "run-record hashes assume a little-endian host");

DigestRule digest_rule_for_record_version(int64_t version) {
  THAW_CHECK(version >= 1, "record format version ", version);
  return version == 1 ? DigestRule::serial : DigestRule::blocked;
}

namespace {

// The parameters laid end to end: each one's first global index, and the blocks.
struct DigestBlocks {
  std::vector<int64_t> starts;
  int64_t total = 0;
  int64_t count = 0;  // blocks of kDigestBlock, the last one shorter
  int64_t lo(int64_t b) const { return b * kDigestBlock; }
  int64_t hi(int64_t b) const { return std::min(total, (b + 1) * kDigestBlock); }
};

DigestBlocks digest_blocks(std::span<const ParamRef<float>> params) {
  DigestBlocks db;
  db.starts.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    db.starts[i] = db.total;
    db.total += params[i].size;
  }
  db.count = (db.total + kDigestBlock - 1) / kDigestBlock;
  return db;
}

// Calls f(pointer offset into the parameter, global index, count) for each piece of lo .. hi that
// lies in one parameter, in order.
template <typename F>
void for_each_piece(std::span<const ParamRef<float>> params, std::span<const int64_t> starts, int64_t lo, int64_t hi,
                    const F& f) {
  // The parameter holding element lo: the last whose start is at or before it.
  auto p = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), lo) - starts.begin()) - 1;
  for (int64_t k = lo; k < hi; ++p) {
    const int64_t n = std::min(hi, starts[p] + params[p].size) - k;
    if (n > 0) f(params[p], k - starts[p], k, n);
    k += n;
  }
}

struct HashState {
  XXH3_state_t* st = XXH3_createState();
  HashState() {
    if (st == nullptr) fail_internal("xxhash: cannot allocate a hash state");
    XXH3_64bits_reset(st);
  }
  ~HashState() { XXH3_freeState(st); }
  HashState(const HashState&) = delete;
  HashState& operator=(const HashState&) = delete;
};

// Over the elements lo .. hi of the sequence (global indices; lo a multiple of kNormLanes): the
// XXH3_64bits (seed 0) of their values as 4-byte little-endian floats (block_hash), and the
// lane-summed squares of their gradients (block_sum_of_squares). The one place each block rule is
// written.
uint64_t block_hash(std::span<const ParamRef<float>> params, std::span<const int64_t> starts, int64_t lo, int64_t hi) {
  HashState h;
  for_each_piece(params, starts, lo, hi, [&](const ParamRef<float>& p, int64_t at, int64_t, int64_t n) {
    XXH3_64bits_update(h.st, p.value + at, static_cast<size_t>(n) * sizeof(float));
  });
  return XXH3_64bits_digest(h.st);
}

// A float's square is exact in double (24-bit significands give at most 48 bits, and the exponent
// stays in range), so a contracted multiply-add rounds exactly as the separate add does.
double block_sum_of_squares(std::span<const ParamRef<float>> params, std::span<const int64_t> starts, int64_t lo,
                            int64_t hi) {
  double acc[kNormLanes] = {};
  for_each_piece(params, starts, lo, hi, [&](const ParamRef<float>& p, int64_t at, int64_t k, int64_t n) {
    const float* g = p.grad + at;
    int64_t i = 0;
    for (; i < n && (k + i) % kNormLanes != 0; ++i) {
      const double x = g[i];
      acc[(k + i) % kNormLanes] += x * x;
    }
    for (; i + kNormLanes <= n; i += kNormLanes) {
      for (int j = 0; j < kNormLanes; ++j) {
        const double x = g[i + j];
        acc[j] += x * x;
      }
    }
    for (; i < n; ++i) {
      const double x = g[i];
      acc[(k + i) % kNormLanes] += x * x;
    }
  });
  static_assert(kNormLanes == 8, "the pairwise combination below is written for 8 lanes");
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// The blocks' results combined in block order: XXH3 over `previous` then each hash, as 8-byte
// little-endian integers; the sums added into one double from 0.
uint64_t combine_block_hashes(uint64_t previous, std::span<const uint64_t> hashes) {
  HashState h;
  XXH3_64bits_update(h.st, &previous, sizeof previous);
  XXH3_64bits_update(h.st, hashes.data(), hashes.size_bytes());
  return XXH3_64bits_digest(h.st);
}

double add_block_sums(std::span<const double> sums) {
  double sum = 0;
  for (const double s : sums) sum += s;
  return sum;
}

}  // namespace

double serial_sum_of_squares(std::span<const ParamRef<float>> params) {
  double sum = 0;
  for (const ParamRef<float>& p : params) {
    for (int64_t i = 0; i < p.size; ++i) {
      const double g = p.grad[i];
      sum += g * g;
    }
  }
  return sum;
}

namespace {

// f(lo, hi) of every block, each on whichever thread takes it, kept in block order.
template <typename T, typename F>
std::vector<T> per_block(const DigestBlocks& db, int threads, const F& f) {
  std::vector<T> out(static_cast<size_t>(db.count));
  const int team = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(team) if (db.count > 1)
  for (int64_t b = 0; b < db.count; ++b) out[static_cast<size_t>(b)] = f(db.lo(b), db.hi(b));
  return out;
}

}  // namespace

double blocked_sum_of_squares(std::span<const ParamRef<float>> params, int threads) {
  const DigestBlocks db = digest_blocks(params);
  return add_block_sums(per_block<double>(
      db, threads, [&](int64_t lo, int64_t hi) { return block_sum_of_squares(params, db.starts, lo, hi); }));
}

uint64_t blocked_checksum(uint64_t previous, std::span<const ParamRef<float>> params, int threads) {
  const DigestBlocks db = digest_blocks(params);
  return combine_block_hashes(previous, per_block<uint64_t>(db, threads, [&](int64_t lo, int64_t hi) {
                                return block_hash(params, db.starts, lo, hi);
                              }));
}

BlockedDigest blocked_digest(uint64_t previous, std::span<const ParamRef<float>> params, int threads) {
  struct Both {
    uint64_t hash;
    double sum;
  };
  const DigestBlocks db = digest_blocks(params);
  const std::vector<Both> both = per_block<Both>(db, threads, [&](int64_t lo, int64_t hi) {
    return Both{block_hash(params, db.starts, lo, hi), block_sum_of_squares(params, db.starts, lo, hi)};
  });
  std::vector<uint64_t> hashes(both.size());
  std::vector<double> sums(both.size());
  for (size_t b = 0; b < both.size(); ++b) hashes[b] = both[b].hash, sums[b] = both[b].sum;
  return {combine_block_hashes(previous, hashes), add_block_sums(sums)};
}

}  // namespace thaw
