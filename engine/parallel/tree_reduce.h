#pragma once
// The one summation order of data parallelism: a fixed binary tree over the V virtual shards,
// leaves 0..V-1, pairs (0,1), (2,3), ..., then pairs of pairs (docs/architecture.md,
// "Data parallelism"). A rank owning V/N consecutive shards holds a complete subtree; the N
// subtree sums are combined by the top of the same tree. Each addition is one IEEE single
// addition of a left and a right partial sum, so the bits depend on V only, never on N.
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "engine/parallel/comm.h"

namespace thaw {

inline bool is_power_of_two(long long v) { return v > 0 && (v & (v - 1)) == 0; }

// parts[0] += parts[1], parts[2] += parts[3], ..., then parts[0] += parts[2], ...: parts[0]
// ends with the tree sum of all parts (a power-of-two count); the other even parts are clobbered.
void tree_sum_inplace(BufferSpace& space, std::span<float* const> parts, size_t count);
// The same tree over scalars (shard losses), in double.
double tree_sum(std::span<const double> leaves);

// A rank's consecutive leaves summed as they come, with a stack of partial sums: when the two
// newest partial sums cover subtrees of the same size they are added (older on the left).
class LeafStack {
 public:
  explicit LeafStack(size_t count) : count_(count) {}
  size_t count() const { return count_; }
  // A buffer of count() floats for the next leaf; end_leaf() takes it into the tree.
  float* begin_leaf();
  void end_leaf();
  // The sum after a power-of-two number of leaves; valid until the next begin_leaf().
  float* result();

  // The leaf that completes the subtree, taken in pieces while the rest of it is still being
  // written (the gradient buckets of engine/parallel/grad_buckets.h): fold(lo, hi) makes end_leaf's
  // additions for elements [lo, hi) only, the same pairs in the same order, and returns the
  // buffer that holds the subtree sum, final in [lo, hi) from then on. Once the pieces cover
  // every element once, end_folded_leaf() closes the leaf as end_leaf() would, adding nothing.
  float* fold(size_t lo, size_t hi);
  void end_folded_leaf();

 private:
  struct Partial {
    int level = 0;
    size_t buffer = 0;
  };
  size_t count_;
  std::vector<std::vector<float>> buffers_;  // reused from step to step
  void close_leaf(bool add);

  std::vector<Partial> stack_;
  size_t leaves_ = 0;
  size_t folded_ = 0;  // elements of the open leaf folded so far
  bool open_ = false;
};

// Every rank holds its subtree sum in data[0, count); on return every rank holds the sum over
// ranks 0..N-1 taken by the top of the tree. Per bucket of `bucket_floats`: each rank receives
// its chunk of the bucket from every other rank (point to point), adds the N partial sums in tree
// order, and sends the result to every other rank (an all-gather, a pure copy): 2 (N-1)/N of
// the data in and out per rank, as a ring all-reduce moves.
void tree_allreduce(Comm& comm, float* data, size_t count, size_t bucket_floats, std::string_view what);
// One bucket of that: data[0, count) reduced as one bucket; `what` names it in errors.
void tree_allreduce_bucket(Comm& comm, float* data, size_t count, std::string_view what);

inline constexpr size_t kGradientBucketFloats = size_t{8} << 20;  // 32 MiB

}  // namespace thaw
