#include "engine/optim/lr_schedule.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace thaw {
namespace {

bool finite_at_least(double x, double lo) { return std::isfinite(x) && x >= lo; }

}  // namespace

LrScheduleConfig::Kind parse_lr_schedule_kind(const std::string& name) {
  if (name == "constant") return LrScheduleConfig::Kind::Constant;
  if (name == "step") return LrScheduleConfig::Kind::Step;
  if (name == "cosine") return LrScheduleConfig::Kind::Cosine;
  if (name == "range") return LrScheduleConfig::Kind::Range;
  fail_user("--lr-schedule: expected constant, step, cosine or range, got '", name, "'");
}

const char* lr_schedule_kind_name(LrScheduleConfig::Kind kind) {
  switch (kind) {
    case LrScheduleConfig::Kind::Constant: return "constant";
    case LrScheduleConfig::Kind::Step: return "step";
    case LrScheduleConfig::Kind::Cosine: return "cosine";
    case LrScheduleConfig::Kind::Range: return "range";
  }
  fail_internal("unknown LrScheduleConfig::Kind ", static_cast<int>(kind));
}

void validate_lr_schedule(const LrScheduleConfig& c) {
  if (!finite_at_least(c.base_lr, 0)) fail_user("--lr: expected a finite value >= 0, got ", c.base_lr);
  if (c.warmup_steps < 0) fail_user("--warmup-steps: expected a value >= 0, got ", c.warmup_steps);
  if (!(c.warmup_start_factor >= 0 && c.warmup_start_factor <= 1)) {
    fail_user("--warmup-start-factor: expected a value in [0, 1], got ", c.warmup_start_factor);
  }
  if (c.kind == LrScheduleConfig::Kind::Step) {
    if (c.step_size <= 0) fail_user("--lr-step-size: expected a value > 0, got ", c.step_size);
    if (!(std::isfinite(c.gamma) && c.gamma > 0)) fail_user("--lr-gamma: expected a finite value > 0, got ", c.gamma);
  }
  if (c.kind == LrScheduleConfig::Kind::Cosine) {
    if (!(c.min_lr >= 0 && c.min_lr <= c.base_lr)) {
      fail_user("--min-lr: expected a value in [0, --lr = ", c.base_lr, "], got ", c.min_lr);
    }
    if (c.total_steps <= c.warmup_steps) {
      fail_user("--warmup-steps: a cosine schedule needs fewer warm-up steps (", c.warmup_steps,
                ") than steps in all (", c.total_steps, ", from --epochs and --max-steps)");
    }
  }
  if (c.kind == LrScheduleConfig::Kind::Range) {
    if (!(c.min_lr > 0 && c.min_lr < c.base_lr)) {
      fail_user("--min-lr: a range schedule rises from --min-lr to --lr: expected a value in (0, ", c.base_lr,
                "), got ", c.min_lr);
    }
    if (c.total_steps < c.warmup_steps + 2) {
      fail_user("--max-steps: a range schedule needs at least 2 steps after warm-up, got ", c.total_steps - c.warmup_steps,
                " (from --epochs, --max-steps and --warmup-steps)");
    }
  }
}

double lr_at(const LrScheduleConfig& c, int64_t step) {
  validate_lr_schedule(c);
  THAW_CHECK(step >= 0, "negative step ", step);
  const double base = c.base_lr;
  if (step < c.warmup_steps) {
    const double f = c.warmup_start_factor;
    return base * (f + (1 - f) * static_cast<double>(step) / static_cast<double>(c.warmup_steps));
  }
  const int64_t u = step - c.warmup_steps;
  switch (c.kind) {
    case LrScheduleConfig::Kind::Constant:
      return base;
    case LrScheduleConfig::Kind::Step:
      return base * std::pow(c.gamma, static_cast<double>(u / c.step_size));
    case LrScheduleConfig::Kind::Cosine: {
      if (step >= c.total_steps) return c.min_lr;
      const double span = static_cast<double>(c.total_steps - c.warmup_steps);
      const double cosine = std::cos(std::numbers::pi * static_cast<double>(u) / span);
      return c.min_lr + (base - c.min_lr) * (1 + cosine) / 2;
    }
    case LrScheduleConfig::Kind::Range: {
      const int64_t span = c.total_steps - c.warmup_steps - 1;
      if (u >= span) return base;
      return c.min_lr * std::pow(base / c.min_lr, static_cast<double>(u) / static_cast<double>(span));
    }
  }
  fail_internal("unknown LrScheduleConfig::Kind ", static_cast<int>(c.kind));
}

}  // namespace thaw
