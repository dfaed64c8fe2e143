#pragma once
// The global batch cut into V virtual shards, and which of them a rank runs. Shard s holds the
// batch positions [s b, (s + 1) b), b = B / V; rank r of N owns the shards [r V/N, (r + 1) V/N)
// and runs them one after another. V and N are powers of two, N divides V: then a rank's shards
// form a complete subtree of the fixed tree over shards (engine/tree_reduce.h).
#include <cstdint>
#include <vector>

#include "engine/plan.h"
#include "engine/trainer.h"
#include "graph/graph.h"

namespace thaw {

// The --shards default: 8 when it divides the batch size, otherwise 1 (the whole batch as one
// shard, as a single-device run).
inline constexpr int64_t kDefaultShards = 8;
int64_t resolve_shards(int64_t requested, int64_t batch_size);  // requested 0: the default

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

// The samples of each batch that rank s.rank computes: batch positions [first_sample(),
// first_sample() + samples_per_rank()), what TrainStep::run takes as a batch of this rank's rows.
// Each rank then decodes only its own samples; a sample's pixels depend on its index, never on
// which rank or batch row loads it, so the bits are those of the whole batch.
std::vector<std::vector<int64_t>> rank_rows(const ShardLayout& s, const std::vector<std::vector<int64_t>>& batches);

// Checks V against the batch size, N against V, and that every batch norm that trains on batch
// statistics sees more than one value per channel in a shard; UserError naming --shards,
// --batch-size or --ranks otherwise.
void validate_shards(const ShardLayout& s, const Graph& g, const Plan& plan);
// The same for a run's batch size, shards and ranks (TrainConfig::batch_size, shards, ranks).
void validate_shards(const TrainConfig& cfg, const Graph& g);

}  // namespace thaw
