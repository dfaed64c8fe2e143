#include "engine/tree_reduce.h"

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
  THAW_CHECK(open_, "end_leaf without begin_leaf");
  open_ = false;
  ++leaves_;
  stack_.back().level = 0;
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].level == stack_[stack_.size() - 2].level) {
    const Partial right = stack_.back();
    stack_.pop_back();
    Partial& left = stack_.back();
    float* l = buffers_[left.buffer].data();
    const float* r = buffers_[right.buffer].data();
    for (size_t i = 0; i < count_; ++i) l[i] += r[i];
    ++left.level;
  }
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
  const int n = comm.size(), r = comm.rank();
  if (n == 1 || count == 0) return;
  THAW_CHECK(is_power_of_two(n), "the tree over ranks needs a power-of-two rank count, got ", n);
  BufferSpace& space = comm.space();
  const size_t bucket = std::max<size_t>(bucket_floats, static_cast<size_t>(n));
  const size_t buckets = (count + bucket - 1) / bucket;
  std::vector<Transfer> sends, recvs;
  std::vector<float*> parts(static_cast<size_t>(n));
  for (size_t b = 0; b < buckets; ++b) {
    float* base = data + b * bucket;
    const size_t len = std::min(bucket, count - b * bucket);
    auto lo = [&](int c) { return len * static_cast<size_t>(c) / static_cast<size_t>(n); };
    const size_t mine = lo(r + 1) - lo(r);
    float* incoming = space.scratch(mine * static_cast<size_t>(n - 1));
    const std::string label = cat_str(what, " (bucket ", b + 1, " of ", buckets, ")");

    // Scatter: chunk c of every rank's partial sum goes to rank c.
    sends.clear();
    recvs.clear();
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
    comm.exchange(sends, recvs, label);
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
    comm.exchange(sends, recvs, label);
  }
}

}  // namespace thaw
