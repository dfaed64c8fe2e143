#pragma once
// metrics.jsonl: a run's loss at every step and its figures at every epoch's end, written by the
// training loop as they happen (engine/train/trainer.cc), and the epoch lines read back where a
// resumed run's summary must list the epochs its first part finished (docs/record-format.md).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace thaw {

struct EpochResult {
  int64_t epoch = 0;
  int64_t steps = 0;
  double train_loss = 0;  // mean over the epoch's steps
  double seconds = 0;
  double images_per_s = 0;
  double val_loss = 0, val_accuracy = -1;  // -1 when there is no held-out data
  // -1 where not computed (no held-out data, no class with both positives and negatives).
  double val_balanced_accuracy = -1, val_auc = -1;
  double eval_seconds = 0;                 // the held-out evaluation after the epoch
};

class MetricsLog {
 public:
  // `dir`/metrics.jsonl, continued (a resumed run: `append`) or started anew; a UserError naming
  // the file where it cannot be written.
  MetricsLog(const std::filesystem::path& dir, bool append);

  // {"epoch", "loss", "loss_bits", "lr", "step"}: loss_bits are the loss's IEEE-754 binary64 bits.
  void step(int64_t step, int64_t epoch, double lr, double loss);
  // {"epoch_end", "eval_seconds", "images_per_s", "seconds", "train_loss", "val_accuracy",
  // "val_auc", "val_balanced_accuracy", "val_loss"}, flushed with every line before it.
  void epoch_end(const EpochResult& e);

 private:
  void check_written();

  std::filesystem::path path_;
  std::ofstream out_;
};

// The epoch_end lines of `run_dir`/metrics.jsonl for the epochs before `first_epoch`, in file
// order; lines that are not such JSON objects are passed over (a torn tail of a killed run).
std::vector<EpochResult> read_epochs_before(const std::filesystem::path& run_dir, int64_t first_epoch);

}  // namespace thaw
