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

// How a record's step lines digest the trainable span: its format version's rule (a record read
// back, or one being written, holds "version").
DigestRule record_digest_rule(const nlohmann::ordered_json& record);

// Turns steps into lines; holds the previous line's parameter checksum for the chain.
class StepLineMaker {
 public:
  // `rule`: the record version's digest rule (record_digest_rule). `previous`: the chain value
  // before the first line made (0 at step 0; a resumed run's last one).
  explicit StepLineMaker(DigestRule rule, uint64_t previous = 0) : rule_(rule), previous_checksum_(previous) {}
  // {"step", "epoch", "lr", "loss", "loss_bits", "grad_norm", "grad_norm_bits", "batch_hash", "param_checksum"}
  nlohmann::ordered_json next(const StepInfo& info);

 private:
  DigestRule rule_;
  uint64_t previous_checksum_ = 0;
};

// Writes steps.jsonl (truncating an older one), one line per step: written, flushed and fsync'ed
// before training goes on.
class StepsWriter final : public StepObserver {
 public:
  StepsWriter(const std::filesystem::path& path, DigestRule rule);
  // Continues the file of a resumed run: keeps its first `keep_lines` lines (a torn tail and the
  // lines of steps made after the checkpoint go) and chains on from `previous_checksum`, with the
  // record's own digest rule.
  StepsWriter(const std::filesystem::path& path, int64_t keep_lines, uint64_t previous_checksum, DigestRule rule);
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
