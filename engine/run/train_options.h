#pragma once
// A RunConfig's training options resolved into the TrainConfig the loop runs: each one checked
// (a UserError naming its flag) and turned into the trainer's terms. run_setup calls these for
// both `thaw train` and `thaw replay`, so a replay resolves a record exactly as its run did.
#include <ostream>
#include <string_view>

#include "engine/run/run_config.h"
#include "engine/train/best_epoch.h"
#include "engine/train/train_config.h"
#include "graph/graph.h"
#include "io/bad_image.h"

namespace thaw {

// --precision fp32|tf32|bf16 and --emulate-bf16 for a step on `device` (cpu or cuda): anything
// else, tf32 without cuda, bf16 on the CPU without --emulate-bf16 (or that flag without bf16, or
// on the GPU) and bf16 on a GPU without bf16 tensor cores are UserErrors naming the flag.
void check_precision(std::string_view precision, bool emulate_bf16, std::string_view device);

// --device cpu|cuda and check_precision, before any file is opened: anything else, and cuda where
// no GPU can run it (a build without CUDA, no usable device), are UserErrors naming the flag.
void check_train_device(const RunConfig& c);

enum class Augment { Random, None };
// "random" or "none"; anything else is a UserError naming --augment.
Augment parse_augment(std::string_view s);

// Every training option of `c` for the graph `g`: schedule, optimizer, loss, the loader's
// workers and `on_bad_image`, the shards, the feature cache (evaluation always uses it, since its
// pixels never change; training batches when theirs never change either: --augment none, or IDX
// data) and the device (the feature cache is not on the GPU path: turned off there, with a
// one-line note on `note` where it would have been used).
// --select and --patience checked (UserError naming the flag).
Selection resolve_selection(const RunConfig& c);

TrainConfig resolve_train_config(const RunConfig& c, const Graph& g, BadImagePolicy on_bad_image, std::ostream& note);

}  // namespace thaw
