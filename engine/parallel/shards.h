#pragma once
// The global batch cut into V virtual shards, and which of them a rank runs. Shard s holds the
// batch positions [s b, (s + 1) b), b = B / V; rank r of N owns the shards [r V/N, (r + 1) V/N)
// and runs them one after another. V and N are powers of two, N divides V: then a rank's shards
// form a complete subtree of the fixed tree over shards (engine/parallel/tree_reduce.h).
#include <cstdint>
#include <vector>

#include "engine/model/plan.h"
#include "graph/graph.h"
#include "io/bad_image.h"

namespace thaw {

// The --shards default: 8 when it divides the batch size, otherwise 1 (the whole batch as one
// shard, as a single-device run).
inline constexpr int64_t kDefaultShards = 8;
int64_t resolve_shards(int64_t requested, int64_t batch_size);  // requested 0: the default

// The default never picks shards the run cannot use: where 8 shards of a batch would leave a
// training batch norm one value per channel (batch 8 at a small input: 1x1 maps), the largest
// power of two below that leaves at least two (so that no run that once worked changes its bits).
// `shards` is resolve_shards' default; returns it, or fewer.
int64_t usable_default_shards(int64_t shards, int64_t batch_size, const Graph& g, const Plan& plan);

struct ShardLayout {
  int64_t batch = 1;   // B
  int64_t shards = 1;  // V
  int ranks = 1;       // N
  int rank = 0;        // r

  int64_t shard_size() const { return batch / shards; }          // b
  int64_t shards_per_rank() const { return shards / ranks; }     // k = V / N
  int64_t first_shard() const { return rank * shards_per_rank(); }
  int64_t first_sample() const { return first_shard() * shard_size(); }  // batch position
  int64_t samples_per_rank() const { return shards_per_rank() * shard_size(); }
};

// The rows of every global batch that a rank loads and hands its step: batch positions
// [first, first + count). This is the one place that decides them (the trainer's loader and both
// steps ask here).
struct RankRows {
  int64_t batch = 1;  // B
  int64_t first = 0;  // StepBatch::first
  int64_t count = 0;
  bool whole_batch() const { return count == batch; }
};

// Each rank loads only its own shards' samples, [first_sample(), first_sample() +
// samples_per_rank()): a sample's pixels depend on its index, never on which rank or batch row
// loads it, so the bits are those of the whole batch. Except with --on-bad-image skip: there a
// skipped sample's stand-in may come from another rank's rows, and rank 0 lists every skip and
// hashes the whole batch into the run record, so every rank loads the whole batch and its step
// picks its own rows.
RankRows rank_rows(const ShardLayout& s, BadImagePolicy on_bad_image);

// Each batch (B sample indices) cut to the rows `r` says its rank loads.
std::vector<std::vector<int64_t>> select_rows(const RankRows& r, const std::vector<std::vector<int64_t>>& batches);

// Where each of rank s.rank's shards starts among `rows` rows loaded from batch position `first`:
// the whole batch or exactly the rank's own rows (rank_rows); anything else is an InternalError.
std::vector<int64_t> shard_starts(const ShardLayout& s, int64_t first, int64_t rows);

// Checks V against the batch size, N against V, and that every batch norm that trains on batch
// statistics sees more than one value per channel in a shard; UserError naming --shards,
// --batch-size or --ranks otherwise.
void validate_shards(const ShardLayout& s, const Graph& g, const Plan& plan);

}  // namespace thaw
