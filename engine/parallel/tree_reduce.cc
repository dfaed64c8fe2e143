#include "engine/parallel/tree_reduce.h"

#include <algorithm>

#include "core/error.h"

namespace thaw {

void tree_sum_inplace(BufferSpace& space, std::span<float* const> parts, size_t count) {
  const size_t n = parts.size();
  THAW_CHECK(is_power_of_two(static_cast<long long>(n)), "a tree sum over ", n, " parts");
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t i = 0; i < n; i += 2 * width) space.add(parts[i], parts[i + width], count);
  }
}

double tree_sum(std::span<const double> leaves) {
  const size_t n = leaves.size();
  THAW_CHECK(is_power_of_two(static_cast<long long>(n)), "a tree sum over ", n, " leaves");
  std::vector<double> v(leaves.begin(), leaves.end());
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t i = 0; i < n; i += 2 * width) v[i] += v[i + width];
  }
  return v[0];
}

float* LeafStack::begin_leaf() {
  THAW_CHECK(!open_, "begin_leaf twice");
  open_ = true;
  // The free buffer: one not held by a partial sum on the stack.
  std::vector<char> used(buffers_.size(), 0);
  for (const Partial& p : stack_) used[p.buffer] = 1;
  size_t free = 0;
  while (free < buffers_.size() && used[free]) ++free;
  if (free == buffers_.size()) buffers_.emplace_back(count_);
  stack_.push_back({-1, free});
  return buffers_[free].data();
}

void LeafStack::end_leaf() {
  THAW_CHECK(open_ && folded_ == 0, "end_leaf without begin_leaf, or after fold");
  close_leaf(true);
}

void LeafStack::close_leaf(bool add) {
  open_ = false;
  folded_ = 0;
  ++leaves_;
  stack_.back().level = 0;
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].level == stack_[stack_.size() - 2].level) {
    const Partial right = stack_.back();
    stack_.pop_back();
    Partial& left = stack_.back();
    if (add) {
      float* l = buffers_[left.buffer].data();
      const float* r = buffers_[right.buffer].data();
      for (size_t i = 0; i < count_; ++i) l[i] += r[i];
    }
    ++left.level;
  }
}

float* LeafStack::fold(size_t lo, size_t hi) {
  THAW_CHECK(open_ && lo <= hi && hi <= count_, "fold [", lo, ", ", hi, ") of a leaf of ", count_);
  // end_leaf's chain: the new leaf (level 0) is added into the partial sum on its left while
  // that one covers a subtree of the same size, the result then into the next one, ...
  size_t k = stack_.size() - 1;
  int level = 0;
  const float* right = buffers_[stack_[k].buffer].data();
  while (k > 0 && stack_[k - 1].level == level) {
    float* l = buffers_[stack_[k - 1].buffer].data();
    for (size_t i = lo; i < hi; ++i) l[i] += right[i];
    right = l;
    --k;
    ++level;
  }
  THAW_CHECK(k == 0, "fold: leaf ", leaves_ + 1, " does not complete the subtree");
  folded_ += hi - lo;
  return buffers_[stack_[0].buffer].data();
}

void LeafStack::end_folded_leaf() {
  THAW_CHECK(open_ && folded_ == count_, "end_folded_leaf after ", folded_, " of ", count_, " elements folded");
  close_leaf(false);
}

float* LeafStack::result() {
  THAW_CHECK(!open_ && stack_.size() == 1 && is_power_of_two(static_cast<long long>(leaves_)),
             "a subtree sum after ", leaves_, " leaves (", stack_.size(), " partial sums)");
  float* out = buffers_[stack_.back().buffer].data();
  stack_.clear();
  leaves_ = 0;
  return out;
}

void tree_allreduce(Comm& comm, float* data, size_t count, size_t bucket_floats, std::string_view what) {
  const int n = comm.size();
  if (n == 1 || count == 0) return;
  const size_t bucket = std::max<size_t>(bucket_floats, static_cast<size_t>(n));
  const size_t buckets = (count + bucket - 1) / bucket;
  for (size_t b = 0; b < buckets; ++b) {
    tree_allreduce_bucket(comm, data + b * bucket, std::min(bucket, count - b * bucket),
                          cat_str(what, " (bucket ", b + 1, " of ", buckets, ")"));
  }
}

void tree_allreduce_bucket(Comm& comm, float* base, size_t len, std::string_view what) {
  const int n = comm.size(), r = comm.rank();
  if (n == 1 || len == 0) return;
  THAW_CHECK(is_power_of_two(n), "the tree over ranks needs a power-of-two rank count, got ", n);
  BufferSpace& space = comm.space();
  std::vector<Transfer> sends, recvs;
  std::vector<float*> parts(static_cast<size_t>(n));
  // Chunk c of the bucket: [lo(c), lo(c + 1)); where the chunks end changes no bits, every
  // element is the same tree over the ranks' partial sums.
  auto lo = [&](int c) { return len * static_cast<size_t>(c) / static_cast<size_t>(n); };
  const size_t mine = lo(r + 1) - lo(r);
  float* incoming = space.scratch(mine * static_cast<size_t>(n - 1));

  // Scatter: chunk c of every rank's partial sum goes to rank c.
  size_t slot = 0;
  for (int q = 0; q < n; ++q) {
    if (q == r) {
      parts[static_cast<size_t>(q)] = base + lo(r);
      continue;
    }
    sends.push_back({q, base + lo(q), (lo(q + 1) - lo(q)) * sizeof(float)});
    parts[static_cast<size_t>(q)] = incoming + slot * mine;
    recvs.push_back({q, parts[static_cast<size_t>(q)], mine * sizeof(float)});
    ++slot;
  }
  comm.exchange(sends, recvs, what);
  tree_sum_inplace(space, parts, mine);
  space.copy(base + lo(r), parts[0], mine * sizeof(float));

  // Gather: every rank's summed chunk to every rank.
  sends.clear();
  recvs.clear();
  for (int q = 0; q < n; ++q) {
    if (q == r) continue;
    sends.push_back({q, base + lo(r), mine * sizeof(float)});
    recvs.push_back({q, base + lo(q), (lo(q + 1) - lo(q)) * sizeof(float)});
  }
  comm.exchange(sends, recvs, what);
}

}  // namespace thaw
