#pragma once
// Where a device step keeps its temporaries: every activation, activation gradient, max-pool
// argmax, dropout mask and batch-norm statistic of one step, with the step times at which it is
// first written and last read, packed into one arena so that the bytes of a dead tensor are reused
// at once. Planned once per (graph, plan, batch size): a step then allocates nothing.
//
// The lifetimes follow engine/model/executor.cc exactly: a frozen node's output dies after its last
// forward reader; an output that a trainable node's backward reads (its input for conv, batch norm
// and linear; its own output for ReLU) lives until that backward; an activation gradient lives
// from the backward of its first writer (its consumer with the largest index) to its own
// backward. Pure bookkeeping without CUDA, so it is tested on any machine.
#include <cstdint>
#include <vector>

#include "engine/model/plan.h"
#include "graph/graph.h"

namespace thaw {

struct ConcatSlot;  // engine/gpu/op_fusions.h

// ChannelsLast: the channels-last front's last output (op_fusions.h channels_last_end) as its op
// writes it, before its transpose into the node's Output.
enum class StepBufferKind { Output, OutputGrad, Argmax, DropoutMask, BnMean, BnInvstd, ChannelsLast };
const char* step_buffer_kind_name(StepBufferKind k);

struct StepBuffer {
  StepBufferKind kind = StepBufferKind::Output;
  int node = 0;
  int64_t bytes = 0;
  int first = 0, last = 0;  // step times, inclusive (StepMemoryPlan::forward_time / backward_time)
  int64_t offset = -1;      // in the arena, a multiple of kArenaAlignment
};

class StepMemoryPlan {
 public:
  // Every buffer start is aligned to this (cuDNN asks for 16 bytes; 256 is what cudaMalloc gives).
  static constexpr int64_t kArenaAlignment = 256;

  // The layout for Phase::Train. A Phase::Eval forward uses the same layout: it writes a subset of
  // the buffers and reads nothing past its own last reader, so the training lifetimes cover it.
  // Activations and their gradients take `activation_bytes` each (4: fp32, 2: bf16). `folded`
  // (engine/gpu/op_fusions.h; null: none): a folded convolution writes straight into its ReLU's
  // output, which then lives from the convolution's forward; the convolution and its batch norm
  // get no output buffer. `bn_relu` (fusable_bn_relu; null: none): a fused batch norm writes its
  // ReLU's output and its backward reads the ReLU's output and gradient; it gets neither buffer.
  // `slots` (concat_slots, with `folded`; null: none): a folded group's ReLU with a slot gets no
  // buffer, and its concatenation's output lives from the earliest such group's convolution.
  // `channels_last_end` >= 0 (with `folded`): that node also gets a ChannelsLast buffer, live from
  // its first write until its transpose, and its Output from the transpose on.
  StepMemoryPlan(const Graph& g, const Plan& plan, int64_t batch, int64_t activation_bytes = 4,
                 const std::vector<char>* folded = nullptr, const std::vector<char>* bn_relu = nullptr,
                 const std::vector<ConcatSlot>* slots = nullptr, int channels_last_end = -1);

  int64_t batch() const { return batch_; }
  int64_t arena_bytes() const { return arena_bytes_; }
  // Sum of all buffer sizes: what the step would take with no reuse at all.
  int64_t total_bytes() const;
  const std::vector<StepBuffer>& buffers() const { return buffers_; }
  // Offset of the (kind, node) buffer in the arena, or -1 when the step has none.
  int64_t offset(StepBufferKind kind, int node) const;
  // The (kind, node) buffer, or null when the step has none.
  const StepBuffer* find(StepBufferKind kind, int node) const;

  // Step times: forward of node i (1..L) is i; the loss is L + 1; backward of node i is 2L + 2 - i,
  // so backward runs from L + 2 (the head) to 2L + 1 (the stem); end() is 2L + 2.
  static int forward_time(int node) { return node; }
  int loss_time() const { return last_node_ + 1; }
  int backward_time(int node) const { return 2 * last_node_ + 2 - node; }
  int end() const { return 2 * last_node_ + 2; }

 private:
  // Per node: the last step time its output is read (output_last) and the largest trainable
  // consumer, whose backward writes its gradient first (first_grad_writer; -1: none).
  void reader_times(const Graph& g, const Plan& plan, const std::vector<char>* bn_relu, std::vector<int>& output_last,
                    std::vector<int>& first_grad_writer) const;
  void add(StepBufferKind kind, int node, int64_t bytes, int first, int last);
  void assign_offsets();

  int64_t batch_ = 0;
  int last_node_ = 0;
  std::vector<StepBuffer> buffers_;
  std::vector<std::vector<int>> index_;  // [kind][node] -> buffer index or -1
  int64_t arena_bytes_ = 0;
};

}  // namespace thaw
