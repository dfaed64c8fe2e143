#pragma once
// --tensorboard DIR: a finished run also written as a TensorBoard event file, without Python or
// TensorFlow: DIR/<thaw run id>/events.out.tfevents.<start seconds>.thaw, TFRecord-framed
// (io/tfrecord.h) Event messages (io/protobuf_wire.h). Scalars: train/loss and train/lr at every
// step; epoch/train_loss, epoch/images_per_s and val/loss, val/accuracy, val/balanced_accuracy,
// val/auc at the global step that ended each epoch. Wall times are the record's start plus each
// epoch's measured seconds (steps spread evenly within their epoch), so the same run folder
// always gives the same bytes; writing it again replaces the file.
#include <filesystem>

namespace thaw {

// Writes the run in `run_dir` (record.json, metrics.jsonl) under `logdir`; returns the event file.
// A log folder that cannot be written is a UserError naming it.
std::filesystem::path write_tensorboard_run(const std::filesystem::path& logdir, const std::filesystem::path& run_dir);

}  // namespace thaw
