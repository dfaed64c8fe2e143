#pragma once
// Learning rate as a pure function of the step index (0-based: step s is the s-th optimizer update),
// so a resumed run needs no schedule state.
//
// With base = base_lr, W = warmup_steps, f = warmup_start_factor:
//
//   warm-up, s < W:   lr = base * (f + (1 - f) * s / W)
//                     (base * f at s = 0, rising linearly; it would reach base at s = W)
//   after, u = s - W:
//     Constant:       lr = base
//     Step:           lr = base * gamma^floor(u / step_size)
//     Cosine:         lr = min_lr + (base - min_lr) * (1 + cos(pi * u / (total_steps - W))) / 2
//                     for s < total_steps, and min_lr from s = total_steps on; so
//                     lr = base at s = W, (base + min_lr) / 2 halfway, and it would reach min_lr
//                     at s = total_steps, one past the last step of a run of total_steps steps.
//     Range:          lr = min_lr * (base / min_lr)^(u / (total_steps - W - 1)), min(u, that span)
//                     (the LR range test, `thaw lr-find`: an exponential rise from min_lr at the
//                     first step after warm-up to base at the last step of the run)
//
// total_steps is read by Cosine and Range; step_size and gamma by Step only; min_lr by Cosine and
// Range.
#include <cstdint>
#include <string>

namespace thaw {

struct LrScheduleConfig {
  enum class Kind { Constant, Step, Cosine, Range };
  Kind kind = Kind::Constant;
  double base_lr = 0;
  int64_t warmup_steps = 0;
  double warmup_start_factor = 0;
  int64_t total_steps = 0;
  int64_t step_size = 0;
  double gamma = 0.1;
  double min_lr = 0;
};

// "constant", "step", "cosine" or "range"; anything else is a UserError naming --lr-schedule.
LrScheduleConfig::Kind parse_lr_schedule_kind(const std::string& name);
const char* lr_schedule_kind_name(LrScheduleConfig::Kind kind);

// Throws UserError naming the flag: --lr (base_lr >= 0), --warmup-steps (>= 0),
// --warmup-start-factor (in [0, 1]), --lr-step-size (> 0, Step), --lr-gamma (> 0, Step),
// --min-lr (in [0, base_lr], Cosine; in (0, base_lr), Range), --warmup-steps again (< total_steps,
// Cosine; < total_steps - 1, Range).
void validate_lr_schedule(const LrScheduleConfig& config);

// Validates, then applies the formulas above. step < 0 is an internal error.
double lr_at(const LrScheduleConfig& config, int64_t step);

}  // namespace thaw
