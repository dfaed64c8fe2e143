#pragma once
// steps.jsonl: one JSON object per training step, in step order, written and flushed as each step
// ends, so that a run cut short keeps every step it finished. Replay makes the same lines from
// its own steps and compares them field by field (the reading: engine/run/record_read.h).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/digest_rule.h"
#include "engine/run/record_read.h"
#include "engine/train/trainer.h"

namespace thaw {

// Turns steps into lines; holds the previous line's parameter checksum for the chain.
class StepLineMaker {
 public:
  // `sum`: the record version's grad_norm rule (engine/model/digest_rule.h). `previous`: the chain
  // value before the first line made (0 at step 0; a resumed run's last one).
  explicit StepLineMaker(DigestRule sum, uint64_t previous = 0) : sum_(sum), previous_checksum_(previous) {}
  // {"step", "epoch", "lr", "loss", "loss_bits", "grad_norm", "grad_norm_bits", "batch_hash", "param_checksum"}
  nlohmann::ordered_json next(const StepInfo& info);

 private:
  DigestRule sum_;
  uint64_t previous_checksum_ = 0;
};

// Writes steps.jsonl (truncating an older one), one line per step: written, flushed and fsync'ed
// before training goes on.
class StepsWriter final : public StepObserver {
 public:
  StepsWriter(const std::filesystem::path& path, DigestRule sum);
  // Continues the file of a resumed run: keeps its first `keep_lines` lines (a torn tail and the
  // lines of steps made after the checkpoint go) and chains on from `previous_checksum`, with the
  // record's own grad_norm rule.
  StepsWriter(const std::filesystem::path& path, int64_t keep_lines, uint64_t previous_checksum, DigestRule sum);
  ~StepsWriter() override;
  StepsWriter(const StepsWriter&) = delete;
  StepsWriter& operator=(const StepsWriter&) = delete;
  bool on_step(const StepInfo& info) override;

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  StepLineMaker maker_;
};

}  // namespace thaw
