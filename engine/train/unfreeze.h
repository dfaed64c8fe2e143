#pragma once
// Gradual unfreezing in one run (--unfreeze 'mixed_7d@0,mixed_6h@2,mixed_5e@4', fastai's
// fine_tune done in steps): from each listed epoch on, the network is frozen through that block.
// The freeze point only moves back (more of the network trains), starting at epoch 0. At a
// change the loop builds the new plan and step (engine/train/trainer.cc); the optimizer state of
// tensors that were already trainable carries over, that of the newly trainable ones starts at
// zero at that step, and the feature cache moves to the new boundary.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace thaw {

struct UnfreezePoint {
  int64_t epoch = 0;
  int block = -1;  // the last frozen block from `epoch` on; -1: none
};

// "BLOCK@EPOCH,..." with epochs from 0 (the first must be 0), strictly increasing, and blocks
// strictly earlier each time ("none" last at the earliest); every epoch below `epochs`. Anything
// else is a UserError naming --unfreeze. "" gives an empty schedule (no unfreezing).
std::vector<UnfreezePoint> parse_unfreeze(const std::string& spec, const Graph& g, int64_t epochs);

// The last frozen block in `epoch`: the schedule's latest point at or before it, or
// `fixed_block` when the schedule is empty.
int freeze_block_at(const std::vector<UnfreezePoint>& schedule, int fixed_block, int64_t epoch);

// The earliest freeze point the run reaches (the most it will train: what memory checks size for).
int earliest_freeze_block(const std::vector<UnfreezePoint>& schedule, int fixed_block);

}  // namespace thaw
