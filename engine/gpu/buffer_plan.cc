#include "engine/gpu/buffer_plan.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "engine/gpu/op_fusions.h"

namespace thaw {

namespace {

constexpr int kKinds = 7;

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

// Per node: for a concatenation with slots, the forward time of its earliest slotted group's
// convolution (its output is written from then on); the node count elsewhere.
std::vector<int> slot_writes(const Graph& g, const std::vector<char>* folded, const std::vector<ConcatSlot>* slots) {
  const int n = static_cast<int>(g.nodes.size());
  std::vector<int> from(static_cast<size_t>(n), n);
  if (!slots) return from;
  THAW_CHECK(folded != nullptr, "concatenation slots without folded groups");
  for (int i = 2; i < n; ++i) {
    const int c = (*slots)[static_cast<size_t>(i)].concat;
    if (c < 0) continue;
    THAW_CHECK((*folded)[static_cast<size_t>(i - 2)], g.nodes[i].name, " has a concatenation slot but no folded group");
    from[static_cast<size_t>(c)] = std::min(from[static_cast<size_t>(c)], StepMemoryPlan::forward_time(i - 2));
  }
  return from;
}

}  // namespace

const char* step_buffer_kind_name(StepBufferKind k) {
  switch (k) {
    case StepBufferKind::Output: return "output";
    case StepBufferKind::OutputGrad: return "output gradient";
    case StepBufferKind::Argmax: return "max-pool argmax";
    case StepBufferKind::DropoutMask: return "dropout mask";
    case StepBufferKind::BnMean: return "batch-norm mean";
    case StepBufferKind::BnInvstd: return "batch-norm invstd";
    case StepBufferKind::ChannelsLast: return "channels-last output";
  }
  return "?";
}

StepMemoryPlan::StepMemoryPlan(const Graph& g, const Plan& plan, int64_t batch, int64_t activation_bytes,
                               const std::vector<char>* folded, const std::vector<char>* bn_relu,
                               const std::vector<ConcatSlot>* slots, int channels_last_end)
    : batch_(batch) {
  THAW_CHECK(batch >= 1, "step memory plan for batch ", batch);
  THAW_CHECK(activation_bytes == 2 || activation_bytes == 4, "activations of ", activation_bytes, " bytes");
  const int n = static_cast<int>(g.nodes.size());
  THAW_CHECK(n >= 2 && static_cast<int>(plan.trainable.size()) == n, "plan for ", plan.trainable.size(),
             " nodes, graph of ", n);
  last_node_ = n - 1;
  index_.assign(kKinds, std::vector<int>(static_cast<size_t>(n), -1));

  std::vector<int> first_grad_writer, output_last;
  reader_times(g, plan, bn_relu, output_last, first_grad_writer);
  auto fused_bn = [&](int i) { return bn_relu && i >= 1 && i < n && (*bn_relu)[static_cast<size_t>(i)]; };

  // A ReLU written into its concatenation's slice has no buffer.
  auto placed = [&](int i) { return slots && (*slots)[static_cast<size_t>(i)].concat >= 0; };
  const std::vector<int> written_from = slot_writes(g, folded, slots);

  for (int i = 1; i < n; ++i) {
    const Node& node = g.nodes[i];
    const int64_t elems = batch * shape_numel(node.out);
    const bool train = plan.trainable[i] != 0;
    // Node 0 (the image) belongs to the caller; every other output lives in the arena.
    THAW_CHECK(output_last[i] >= forward_time(i), "node ", node.name, " has no reader");
    const bool folded_conv = folded && (*folded)[static_cast<size_t>(i)];
    if (folded_conv || (folded && folded_away(*folded, i) && node.kind == OpKind::BatchNorm)) continue;
    if (placed(i)) {
      THAW_CHECK(i != channels_last_end, node.name, " ends the channels-last front inside a concatenation");
      continue;
    }
    // The ReLU of a folded group is written by its convolution, two steps earlier; the ReLU of a
    // fused pair by its batch norm, one step earlier, and its gradient read by that batch norm's
    // backward, one step later than its own. The fused batch norm stores neither.
    int first = forward_time(i), grad_last = backward_time(i);
    if (folded && folded_away(*folded, i)) first = forward_time(i - 2);
    if (fused_bn(i - 1)) first = forward_time(i - 1), grad_last = backward_time(i - 1);
    if (i == channels_last_end) {
      // The op (or its group) writes the channels-last buffer, transposed into Output at `first`.
      THAW_CHECK(folded != nullptr, "a channels-last front without folded groups");
      add(StepBufferKind::ChannelsLast, i, elems * activation_bytes,
          std::min(first, written_from[static_cast<size_t>(i)]), first);
    } else {
      first = std::min(first, written_from[static_cast<size_t>(i)]);
    }
    if (!fused_bn(i)) add(StepBufferKind::Output, i, elems * activation_bytes, first, output_last[i]);
    // The logits' gradient belongs to the executor; the boundary and frozen nodes get none.
    if (train && i != last_node_ && first_grad_writer[i] > 0 && !fused_bn(i)) {
      add(StepBufferKind::OutputGrad, i, elems * activation_bytes, backward_time(first_grad_writer[i]), grad_last);
    }
    switch (node.kind) {
      case OpKind::MaxPool:
        add(StepBufferKind::Argmax, i, elems * 4, forward_time(i), train ? backward_time(i) : forward_time(i));
        break;
      case OpKind::Dropout:
        if (train && node.dropout > 0) add(StepBufferKind::DropoutMask, i, elems, forward_time(i), backward_time(i));
        break;
      case OpKind::BatchNorm:
        if (train && plan.bn == BnPolicy::Train) {
          add(StepBufferKind::BnMean, i, node.out[0] * 4, forward_time(i), backward_time(i));
          add(StepBufferKind::BnInvstd, i, node.out[0] * 4, forward_time(i), backward_time(i));
        }
        break;
      default: break;
    }
  }
  assign_offsets();
}

void StepMemoryPlan::reader_times(const Graph& g, const Plan& plan, const std::vector<char>* bn_relu,
                                  std::vector<int>& output_last, std::vector<int>& first_grad_writer) const {
  const int n = static_cast<int>(g.nodes.size());
  // Consumers of each node, and the last (largest) trainable one: its backward writes first.
  first_grad_writer.assign(static_cast<size_t>(n), -1);
  output_last.assign(static_cast<size_t>(n), -1);
  for (int i = 1; i < n; ++i) {
    for (int in : g.nodes[i].inputs) {
      output_last[in] = std::max(output_last[in], forward_time(i));
      if (plan.trainable[i]) first_grad_writer[in] = std::max(first_grad_writer[in], i);
    }
    // conv, batch norm and linear read their first input again in backward.
    if (plan.trainable[i] && plan.keep_input[i]) {
      const int in = g.nodes[i].inputs[0];
      output_last[in] = std::max(output_last[in], backward_time(i));
    }
    // ReLU's backward reads its own output.
    if (plan.trainable[i] && g.nodes[i].kind == OpKind::Relu) output_last[i] = std::max(output_last[i], backward_time(i));
  }
  output_last[last_node_] = end();  // the logits: read by the loss and by the caller
  // A fused batch norm's backward reads its ReLU's output and output gradient.
  auto fused_bn = [&](int i) { return bn_relu && i >= 1 && i < n && (*bn_relu)[static_cast<size_t>(i)]; };
  for (int i = 1; i + 1 < n; ++i) {
    if (fused_bn(i)) output_last[i + 1] = std::max(output_last[i + 1], backward_time(i));
  }
}

void StepMemoryPlan::add(StepBufferKind kind, int node, int64_t bytes, int first, int last) {
  THAW_CHECK(bytes > 0 && first <= last, step_buffer_kind_name(kind), " of node ", node, ": ", bytes, " bytes over [",
             first, ", ", last, "]");
  index_[static_cast<int>(kind)][node] = static_cast<int>(buffers_.size());
  buffers_.push_back({kind, node, bytes, first, last, -1});
}

// Greedy first fit, largest buffers first: each takes the lowest aligned offset where it overlaps
// no buffer already placed whose lifetime meets its own. Ties are broken by buffer index, so the
// layout is a pure function of the graph, the plan and the batch size.
void StepMemoryPlan::assign_offsets() {
  std::vector<int> order(buffers_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return buffers_[a].bytes > buffers_[b].bytes; });
  std::vector<int> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of live-overlapping placed buffers
  arena_bytes_ = 0;
  for (int k : order) {
    StepBuffer& b = buffers_[k];
    busy.clear();
    for (int p : placed) {
      const StepBuffer& q = buffers_[p];
      if (q.first <= b.last && b.first <= q.last) busy.emplace_back(q.offset, q.offset + q.bytes);
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [lo, hi] : busy) {
      if (at + b.bytes <= lo) break;
      at = std::max(at, align_up(hi, kArenaAlignment));
    }
    b.offset = at;
    arena_bytes_ = std::max(arena_bytes_, align_up(at + b.bytes, kArenaAlignment));
    placed.push_back(k);
  }
}

int64_t StepMemoryPlan::total_bytes() const {
  int64_t t = 0;
  for (const StepBuffer& b : buffers_) t += align_up(b.bytes, kArenaAlignment);
  return t;
}

const StepBuffer* StepMemoryPlan::find(StepBufferKind kind, int node) const {
  if (node < 0 || node > last_node_) return nullptr;
  const int k = index_[static_cast<int>(kind)][node];
  return k < 0 ? nullptr : &buffers_[k];
}

int64_t StepMemoryPlan::offset(StepBufferKind kind, int node) const {
  const StepBuffer* b = find(kind, node);
  return b ? b->offset : -1;
}

}  // namespace thaw
