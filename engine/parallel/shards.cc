#include "engine/parallel/shards.h"

#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "engine/parallel/tree_reduce.h"

namespace thaw {

int64_t resolve_shards(int64_t requested, int64_t batch_size) {
  if (requested < 0) fail_user("--shards: expected a positive power of two, got ", requested);
  if (requested > 0) return requested;
  return batch_size % kDefaultShards == 0 ? kDefaultShards : 1;
}

namespace {

// The fewest values per channel any batch norm that trains on batch statistics sees in one sample.
int64_t smallest_bn_map(const Graph& g, const Plan& plan) {
  int64_t smallest = INT64_MAX;
  if (plan.bn != BnPolicy::Train) return smallest;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.kind == OpKind::BatchNorm && plan.trainable[i]) smallest = std::min(smallest, shape_numel(n.out) / n.out[0]);
  }
  return smallest;
}

}  // namespace

int64_t usable_default_shards(int64_t shards, int64_t batch_size, const Graph& g, const Plan& plan) {
  const int64_t per_sample = smallest_bn_map(g, plan);
  while (shards > 1 && (batch_size / shards) * per_sample < 2) shards /= 2;
  return shards;
}

RankRows rank_rows(const ShardLayout& s, BadImagePolicy on_bad_image) {
  if (s.ranks > 1 && on_bad_image == BadImagePolicy::Fail) return {s.batch, s.first_sample(), s.samples_per_rank()};
  return {s.batch, 0, s.batch};
}

std::vector<std::vector<int64_t>> select_rows(const RankRows& r, const std::vector<std::vector<int64_t>>& batches) {
  if (r.whole_batch()) return batches;
  std::vector<std::vector<int64_t>> out;
  out.reserve(batches.size());
  for (const std::vector<int64_t>& b : batches) {
    THAW_CHECK(static_cast<int64_t>(b.size()) == r.batch, "a batch of ", b.size(), " samples, not ", r.batch);
    out.emplace_back(b.begin() + r.first, b.begin() + r.first + r.count);
  }
  return out;
}

std::vector<int64_t> shard_starts(const ShardLayout& s, int64_t first, int64_t rows) {
  const bool whole = first == 0 && rows == s.batch;
  const bool own = first == s.first_sample() && rows == s.samples_per_rank();
  THAW_CHECK(whole || own, "a batch of ", rows, " rows from position ", first, " for rank ", s.rank, " of ", s.ranks,
             " (batch ", s.batch, ", ", s.shards, " shards)");
  std::vector<int64_t> starts;
  for (int64_t j = 0; j < s.shards_per_rank(); ++j) starts.push_back((s.first_shard() + j) * s.shard_size() - first);
  return starts;
}

void validate_shards(const ShardLayout& s, const Graph& g, const Plan& plan) {
  if (!is_power_of_two(s.shards)) {
    fail_user("--shards: expected a power of two (1, 2, 4, 8, ...), got ", s.shards,
              ": the shards are summed in a binary tree");
  }
  if (s.batch % s.shards != 0) {
    fail_user("--shards ", s.shards, " does not divide --batch-size ", s.batch,
              ": each virtual shard must hold the same number of samples");
  }
  if (!is_power_of_two(s.ranks)) {
    fail_user("--ranks: expected a power of two (1, 2, 4, 8, ...), got ", s.ranks);
  }
  if (s.shards % s.ranks != 0) {
    fail_user(s.ranks, " ranks do not divide --shards ", s.shards,
              ": every rank runs the same number of virtual shards (give --shards a multiple of ", s.ranks, ")");
  }
  if (plan.bn != BnPolicy::Train) return;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.kind != OpKind::BatchNorm || !plan.trainable[i]) continue;
    const int64_t per_channel = s.shard_size() * (shape_numel(n.out) / n.out[0]);
    if (per_channel < 2) {
      fail_user("--shards ", s.shards, " with --batch-size ", s.batch, ": shards of ", s.shard_size(),
                " sample(s) leave batch norm ", n.name, " (", n.out[1], "x", n.out[2],
                ") one value per channel; use fewer shards, a larger batch or --bn frozen");
    }
  }
}

}  // namespace thaw
