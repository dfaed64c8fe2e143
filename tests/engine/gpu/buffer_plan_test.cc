// The device step's arena layout: every buffer the executor touches exists and is live at each
// touch (re-derived here from the op kinds, not from the plan's keep flags), no two buffers that
// are live at the same time share a byte, and reuse actually saves memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "engine/gpu/buffer_plan.h"
#include "engine/gpu/op_fusions.h"
#include "graph/inception_v4.h"

namespace thaw {
namespace {

struct Touch {
  StepBufferKind kind;
  int node;
  int time;
};

// What engine/gpu/cuda_executor.cc reads and writes in one training step, op by op.
// With `folded` (engine/gpu/op_fusions.h), a folded convolution reads its input and writes its
// ReLU's output (conv, then bias + ReLU in place) at its own time; its batch norm and ReLU touch nothing.
// A fused batch norm's reads and writes at `at` in both directions: its input, its ReLU's output,
// its statistics.
void fused_pair_touches(const Plan& plan, const Node& n, int i, int at, std::vector<Touch>& t) {
  if (n.inputs[0] != 0) t.push_back({StepBufferKind::Output, n.inputs[0], at});
  t.push_back({StepBufferKind::Output, i + 1, at});
  if (plan.bn == BnPolicy::Train) {
    t.push_back({StepBufferKind::BnMean, i, at});
    t.push_back({StepBufferKind::BnInvstd, i, at});
  }
}

// The backward half of executor_touches: each trainable node from the head down.
void backward_touches(const Graph& g, const Plan& plan, const StepMemoryPlan& mp, const std::vector<char>* bn_relu,
                      std::vector<Touch>& t) {
  const int last = g.output_node();
  auto fused = [&](int i) { return bn_relu && i >= 1 && (*bn_relu)[static_cast<size_t>(i)]; };
  for (int i = last; i >= 1; --i) {
    if (!plan.trainable[i] || fused(i - 1)) continue;
    const Node& n = g.nodes[i];
    const int at = mp.backward_time(i);
    if (fused(i)) {
      fused_pair_touches(plan, n, i, at, t);
      t.push_back({StepBufferKind::OutputGrad, i + 1, at});
      if (plan.trainable[n.inputs[0]]) t.push_back({StepBufferKind::OutputGrad, n.inputs[0], at});
      continue;
    }
    if (i != last) t.push_back({StepBufferKind::OutputGrad, i, at});
    const int in0 = n.inputs[0];
    switch (n.kind) {
      case OpKind::Conv:
      case OpKind::Linear:
        if (in0 != 0) t.push_back({StepBufferKind::Output, in0, at});
        break;
      case OpKind::BatchNorm:
        if (in0 != 0) t.push_back({StepBufferKind::Output, in0, at});
        if (plan.bn == BnPolicy::Train) {
          t.push_back({StepBufferKind::BnMean, i, at});
          t.push_back({StepBufferKind::BnInvstd, i, at});
        }
        break;
      case OpKind::Relu: t.push_back({StepBufferKind::Output, i, at}); break;
      case OpKind::MaxPool: t.push_back({StepBufferKind::Argmax, i, at}); break;
      case OpKind::Dropout:
        if (n.dropout > 0) t.push_back({StepBufferKind::DropoutMask, i, at});
        break;
      default: break;
    }
    for (int in : n.inputs) {
      if (plan.trainable[in]) t.push_back({StepBufferKind::OutputGrad, in, at});
    }
  }
}

// With `bn_relu`, a fused batch norm reads its input and writes its ReLU's output in forward, and in
// backward reads its input, the ReLU's output and gradient; the ReLU touches nothing itself.
// With `slots` (concat_slots), a folded group whose ReLU has a slot writes its concatenation's
// output instead, which then reads only its other inputs.
std::vector<Touch> executor_touches(const Graph& g, const Plan& plan, const StepMemoryPlan& mp,
                                    const std::vector<char>* folded = nullptr,
                                    const std::vector<char>* bn_relu = nullptr,
                                    const std::vector<ConcatSlot>* slots = nullptr, int cl_end = -1) {
  std::vector<Touch> t;
  const int last = g.output_node();
  // The channels-last front's last node is written into its ChannelsLast buffer, then transposed.
  auto written = [&](int node) { return node == cl_end ? StepBufferKind::ChannelsLast : StepBufferKind::Output; };
  auto transpose = [&](int node, int at) {
    if (node != cl_end) return;
    t.push_back({StepBufferKind::ChannelsLast, node, at});
    t.push_back({StepBufferKind::Output, node, at});
  };
  auto fused = [&](int i) { return bn_relu && i >= 1 && (*bn_relu)[static_cast<size_t>(i)]; };
  auto slot_of = [&](int i) { return slots ? (*slots)[static_cast<size_t>(i)].concat : -1; };
  for (int i = 1; i <= last; ++i) {
    const Node& n = g.nodes[i];
    const int at = StepMemoryPlan::forward_time(i);
    const bool train = plan.trainable[i] != 0;
    if (folded && folded_away(*folded, i)) continue;
    if (fused(i - 1)) continue;
    if (fused(i)) {
      fused_pair_touches(plan, n, i, at, t);
      continue;
    }
    if (folded && (*folded)[static_cast<size_t>(i)]) {
      if (n.inputs[0] != 0) t.push_back({StepBufferKind::Output, n.inputs[0], at});
      const int c = slot_of(i + 2);
      t.push_back({written(c >= 0 ? c : i + 2), c >= 0 ? c : i + 2, at});
      transpose(i + 2, at);
      continue;
    }
    for (int in : n.inputs) {
      if (in != 0 && slot_of(in) != i) t.push_back({StepBufferKind::Output, in, at});
    }
    t.push_back({written(i), i, at});
    transpose(i, at);
    if (n.kind == OpKind::MaxPool) t.push_back({StepBufferKind::Argmax, i, at});
    if (n.kind == OpKind::Dropout && train && n.dropout > 0) t.push_back({StepBufferKind::DropoutMask, i, at});
    if (n.kind == OpKind::BatchNorm && train && plan.bn == BnPolicy::Train) {
      t.push_back({StepBufferKind::BnMean, i, at});
      t.push_back({StepBufferKind::BnInvstd, i, at});
    }
  }
  t.push_back({StepBufferKind::Output, last, mp.loss_time()});
  backward_touches(g, plan, mp, bn_relu, t);
  t.push_back({StepBufferKind::Output, last, mp.end()});
  return t;
}

void check_layout(const Graph& g, const std::string& freeze, BnPolicy bn, int64_t batch, bool fold = false,
                  bool channels_last = false) {
  SCOPED_TRACE(freeze + (bn == BnPolicy::Train ? " bn train" : " bn frozen") + " batch " + std::to_string(batch) +
               (fold ? " folded" : "") + (channels_last ? " channels-last" : ""));
  const Plan plan = make_plan(g, g.find_block(freeze), bn);
  const std::vector<char> folded = foldable_convs(g, plan), bn_relu = fusable_bn_relu(g, plan);
  const std::vector<ConcatSlot> slots = concat_slots(g, plan, folded);
  const int cl_end = fold && channels_last ? channels_last_end(g, plan, folded) : -1;
  if (channels_last) {
    ASSERT_GE(cl_end, 1);
  }
  const StepMemoryPlan mp(g, plan, batch, 4, fold ? &folded : nullptr, fold ? &bn_relu : nullptr,
                          fold ? &slots : nullptr, cl_end);
  const auto& bufs = mp.buffers();
  for (const Touch& t : executor_touches(g, plan, mp, fold ? &folded : nullptr, fold ? &bn_relu : nullptr,
                                         fold ? &slots : nullptr, cl_end)) {
    const int64_t off = mp.offset(t.kind, t.node);
    ASSERT_GE(off, 0) << "no " << step_buffer_kind_name(t.kind) << " buffer for node " << g.nodes[t.node].name;
    const auto it = std::find_if(bufs.begin(), bufs.end(),
                                 [&](const StepBuffer& b) { return b.kind == t.kind && b.node == t.node; });
    ASSERT_NE(it, bufs.end());
    EXPECT_TRUE(it->first <= t.time && t.time <= it->last)
        << step_buffer_kind_name(t.kind) << " of " << g.nodes[t.node].name << " touched at " << t.time
        << ", live over [" << it->first << ", " << it->last << "]";
  }
  for (size_t a = 0; a < bufs.size(); ++a) {
    const StepBuffer& x = bufs[a];
    ASSERT_EQ(x.offset % StepMemoryPlan::kArenaAlignment, 0);
    ASSERT_LE(x.offset + x.bytes, mp.arena_bytes());
    for (size_t b = a + 1; b < bufs.size(); ++b) {
      const StepBuffer& y = bufs[b];
      const bool live_together = x.first <= y.last && y.first <= x.last;
      const bool share_bytes = x.offset < y.offset + y.bytes && y.offset < x.offset + x.bytes;
      ASSERT_FALSE(live_together && share_bytes)
          << step_buffer_kind_name(x.kind) << " of " << g.nodes[x.node].name << " and "
          << step_buffer_kind_name(y.kind) << " of " << g.nodes[y.node].name << " overlap while both live";
    }
  }
}

TEST(StepMemoryPlan, EveryTouchIsLiveAndNoLiveBuffersOverlap) {
  const Graph g = build_inception_v4(299, 10, 0.2);  // with dropout, so the mask is planned too
  for (const char* fp : {"none", "mixed_5e", "mixed_6a", "mixed_6h", "mixed_7d", "head"}) {
    check_layout(g, fp, BnPolicy::Train, 3);
  }
  check_layout(g, "mixed_6a", BnPolicy::Frozen, 2);
  check_layout(build_inception_v4(75, 5), "none", BnPolicy::Train, 1);
  for (const char* fp : {"none", "mixed_5e", "mixed_6h", "head"}) check_layout(g, fp, BnPolicy::Train, 3, true);
  check_layout(g, "mixed_6a", BnPolicy::Frozen, 2, true);
  for (const char* fp : {"conv2d_2a", "mixed_3a", "mixed_5e", "mixed_6h", "head"}) {
    check_layout(g, fp, BnPolicy::Train, 3, true, true);
  }
}

// The channels-last front (op_fusions.h channels_last_end): the whole frozen part where it ends at
// a block, up to the last block's concatenation where everything is frozen, none where nothing is.
TEST(ChannelsLast, TheFrontEndsWhereTheFrozenBlocksDo) {
  const Graph g = build_inception_v4(299, 10);
  auto end_for = [&](const char* freeze) {
    const Plan plan = make_plan(g, g.find_block(freeze), BnPolicy::Train);
    return channels_last_end(g, plan, foldable_convs(g, plan));
  };
  auto last_of = [&](const char* block) { return g.blocks[static_cast<size_t>(g.find_block(block))].last_node; };
  EXPECT_EQ(end_for("none"), -1);
  EXPECT_EQ(end_for("conv2d_1a"), last_of("conv2d_1a"));  // one folded group: its ReLU
  EXPECT_EQ(g.nodes[static_cast<size_t>(last_of("conv2d_1a"))].kind, OpKind::Relu);
  for (const char* b : {"mixed_3a", "mixed_5e", "mixed_6a", "mixed_6h", "mixed_7d"}) {
    EXPECT_EQ(end_for(b), last_of(b)) << b;
    EXPECT_EQ(g.nodes[static_cast<size_t>(last_of(b))].kind, OpKind::Concat) << b;
  }
  // All frozen: the head's pooling and classifier stay NCHW.
  EXPECT_EQ(end_for("head"), last_of("mixed_7d"));
  const Plan p6h = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  EXPECT_EQ(channels_last_end(g, p6h, std::vector<char>(g.nodes.size(), 0)), -1);  // folding off
}

// Which nodes fold (engine/gpu/op_fusions.h): every frozen conv-bn-relu triple, nothing trainable;
// every trainable batch norm fuses with its ReLU; together they drop buffers from the arena.
TEST(FrozenFold, EveryFrozenBasicConvFoldsAndNothingTrainable) {
  const Graph g = build_inception_v4(299, 10);
  int convs_before_7a = 0, convs_total = 0;
  const int first_7a = g.blocks[static_cast<size_t>(g.find_block("mixed_7a"))].first_node;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].kind != OpKind::Conv) continue;
    ++convs_total;
    convs_before_7a += static_cast<int>(i) < first_7a;
  }
  const Plan none = make_plan(g, g.find_block("none"), BnPolicy::Train);
  const std::vector<char> nothing = foldable_convs(g, none);
  EXPECT_EQ(std::count(nothing.begin(), nothing.end(), 1), 0);
  const Plan p6h = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  const std::vector<char> f = foldable_convs(g, p6h);
  EXPECT_EQ(std::count(f.begin(), f.end(), 1), convs_before_7a);  // every conv of Inception v4 is a BasicConv2d
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i]) {
      EXPECT_FALSE(p6h.trainable[i]) << g.nodes[i].name;
    }
  }
  const Plan head = make_plan(g, g.find_block("head"), BnPolicy::Train);
  const std::vector<char> all = foldable_convs(g, head);
  EXPECT_EQ(std::count(all.begin(), all.end(), 1), convs_total);
  const std::vector<char> fused = fusable_bn_relu(g, p6h);
  int trainable_bns = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) trainable_bns += g.nodes[i].kind == OpKind::BatchNorm && p6h.trainable[i];
  EXPECT_EQ(std::count(fused.begin(), fused.end(), 1), trainable_bns);  // every batch norm is followed by its ReLU
  const StepMemoryPlan plain(g, p6h, 8), fold(g, p6h, 8, 4, &f, &fused);
  // Fewer buffers in all; the peak may move a little either way (the fused pair's ReLU output and
  // gradient live one step longer), so only within 2%.
  EXPECT_LT(fold.total_bytes(), plain.total_bytes());
  EXPECT_LE(fold.arena_bytes(), plain.arena_bytes() * 102 / 100);
  std::printf("frozen through mixed_6h, batch 8: arena %.1f MiB folded, %.1f MiB not\n",
              static_cast<double>(fold.arena_bytes()) / (1 << 20), static_cast<double>(plain.arena_bytes()) / (1 << 20));
}

// The branch ends of frozen blocks (engine/gpu/op_fusions.h concat_slots): every folded ReLU read
// only by a frozen concatenation, at its channel offset; no slot in a trainable block.
TEST(ConcatSlots, FrozenBranchEndsWriteIntoTheirConcatenation) {
  const Graph g = build_inception_v4(299, 10);
  const Plan p6h = make_plan(g, g.find_block("mixed_6h"), BnPolicy::Train);
  const std::vector<char> f = foldable_convs(g, p6h);
  const std::vector<ConcatSlot> slots = concat_slots(g, p6h, f);
  auto slotted_inputs = [&](const char* block) {
    const int c = g.blocks[static_cast<size_t>(g.find_block(block))].last_node;
    EXPECT_EQ(g.nodes[c].kind, OpKind::Concat) << block;
    std::vector<int64_t> channels;
    for (int src : g.nodes[c].inputs) {
      if (slots[static_cast<size_t>(src)].concat == c) channels.push_back(slots[static_cast<size_t>(src)].channel);
    }
    return channels;
  };
  // Inception-A: four BasicConv2d branch ends of 96 channels each.
  for (const char* a : {"mixed_5b", "mixed_5c", "mixed_5d", "mixed_5e"}) {
    EXPECT_EQ(slotted_inputs(a), (std::vector<int64_t>{0, 96, 192, 288})) << a;
  }
  // Reduction-A: two conv branches (384, then 256) before the max pool, which is copied.
  EXPECT_EQ(slotted_inputs("mixed_6a"), (std::vector<int64_t>{0, 384}));
  // Inception-B: 384 + 256 + 256 + 128 channels.
  EXPECT_EQ(slotted_inputs("mixed_6h"), (std::vector<int64_t>{0, 384, 640, 896}));
  // Trainable from mixed_7a on: no slot there.
  const int first_7a = g.blocks[static_cast<size_t>(g.find_block("mixed_7a"))].first_node;
  for (size_t i = static_cast<size_t>(first_7a); i < slots.size(); ++i) EXPECT_EQ(slots[i].concat, -1) << g.nodes[i].name;
  const Plan none = make_plan(g, g.find_block("none"), BnPolicy::Train);
  for (const ConcatSlot& s : concat_slots(g, none, foldable_convs(g, none))) EXPECT_EQ(s.concat, -1);
  // Fewer bytes planned: the slotted ReLUs' buffers are gone. But each concatenation's output now
  // lives from its first branch on, beside the later branches' temporaries and the block's input:
  // in training the peak is the trainable part's and moves a little either way; an all-frozen
  // forward's peak grows (68.2 to 78.6 MiB at batch 8), bounded here. What the slots save is the
  // copies (a block's output read and written once more per forward).
  const std::vector<char> fused = fusable_bn_relu(g, p6h);
  const StepMemoryPlan without(g, p6h, 8, 4, &f, &fused), with(g, p6h, 8, 4, &f, &fused, &slots);
  EXPECT_LT(with.total_bytes(), without.total_bytes());
  EXPECT_LE(with.arena_bytes(), without.arena_bytes() * 101 / 100);
  const Plan head = make_plan(g, g.find_block("head"), BnPolicy::Train);
  const std::vector<char> hf = foldable_convs(g, head), hfused = fusable_bn_relu(g, head);
  const std::vector<ConcatSlot> hslots = concat_slots(g, head, hf);
  const StepMemoryPlan infer_without(g, head, 8, 4, &hf, &hfused), infer_with(g, head, 8, 4, &hf, &hfused, &hslots);
  EXPECT_LT(infer_with.total_bytes(), infer_without.total_bytes());
  EXPECT_LE(infer_with.arena_bytes(), infer_without.arena_bytes() * 6 / 5);
  std::printf("batch 8, folded, arena with concatenation slots and without: frozen through mixed_6h %.1f and %.1f "
              "MiB; all frozen %.1f and %.1f MiB\n",
              static_cast<double>(with.arena_bytes()) / (1 << 20), static_cast<double>(without.arena_bytes()) / (1 << 20),
              static_cast<double>(infer_with.arena_bytes()) / (1 << 20),
              static_cast<double>(infer_without.arena_bytes()) / (1 << 20));
}

TEST(StepMemoryPlan, ReusesMemory) {
  const Graph g = build_inception_v4(299, 1000);
  const StepMemoryPlan full(g, make_plan(g, -1, BnPolicy::Train), 8);
  const StepMemoryPlan infer(g, make_plan(g, g.find_block("head"), BnPolicy::Train), 8);
  int64_t largest_output = 0;
  for (const StepBuffer& b : infer.buffers()) largest_output = std::max(largest_output, b.bytes);
  std::printf("[arena] batch 8, 299: training %.1f MiB of %.1f MiB without reuse; inference %.1f MiB of %.1f MiB, "
              "largest output %.1f MiB\n",
              full.arena_bytes() / 1048576.0, full.total_bytes() / 1048576.0, infer.arena_bytes() / 1048576.0,
              infer.total_bytes() / 1048576.0, largest_output / 1048576.0);
  // Training keeps most activations until backward, but the gradients of one block die before the
  // next block's are born.
  EXPECT_LT(full.arena_bytes(), full.total_bytes() * 3 / 4);
  // Inference holds a block's input, its branches and its concat at most: a few of the largest
  // outputs, never the whole network.
  EXPECT_LE(infer.arena_bytes(), 4 * largest_output);
  EXPECT_LT(infer.arena_bytes() * 10, infer.total_bytes());
}

TEST(StepMemoryPlan, LayoutIsAPureFunctionOfItsInputs) {
  const Graph g = build_inception_v4(299, 10);
  const Plan plan = make_plan(g, g.find_block("mixed_5e"), BnPolicy::Train);
  const StepMemoryPlan a(g, plan, 4), b(g, plan, 4);
  ASSERT_EQ(a.buffers().size(), b.buffers().size());
  for (size_t i = 0; i < a.buffers().size(); ++i) EXPECT_EQ(a.buffers()[i].offset, b.buffers()[i].offset);
  EXPECT_EQ(a.arena_bytes(), b.arena_bytes());
  // The batch scales every buffer but the batch-norm statistics.
  EXPECT_GT(StepMemoryPlan(g, plan, 8).arena_bytes(), a.arena_bytes());
}

}  // namespace
}  // namespace thaw
