#include "engine/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "core/error.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

constexpr double kTol = 1e-12;

LrScheduleConfig make(LrScheduleConfig::Kind kind, int64_t warmup, double start_factor) {
  LrScheduleConfig c;
  c.kind = kind;
  c.base_lr = 0.1;
  c.warmup_steps = warmup;
  c.warmup_start_factor = start_factor;
  return c;
}

TEST(LrScheduleTest, LinearWarmUp) {
  const auto c = make(LrScheduleConfig::Kind::Constant, 10, 0.01);
  EXPECT_NEAR(lr_at(c, 0), 0.001, kTol);
  EXPECT_NEAR(lr_at(c, 5), 0.1 * (0.01 + 0.99 * 0.5), kTol);
  EXPECT_NEAR(lr_at(c, 9), 0.1 * (0.01 + 0.99 * 0.9), kTol);
  EXPECT_EQ(lr_at(c, 10), 0.1);  // warm-up is over: the base rate
  EXPECT_EQ(lr_at(c, 11), 0.1);
  // From zero by default.
  EXPECT_EQ(lr_at(make(LrScheduleConfig::Kind::Constant, 4, 0), 0), 0.0);
  EXPECT_NEAR(lr_at(make(LrScheduleConfig::Kind::Constant, 4, 0), 1), 0.025, kTol);
}

TEST(LrScheduleTest, ConstantWithoutWarmUp) {
  const auto c = make(LrScheduleConfig::Kind::Constant, 0, 0);
  EXPECT_EQ(lr_at(c, 0), 0.1);
  EXPECT_EQ(lr_at(c, 123456), 0.1);
}

TEST(LrScheduleTest, StepBoundaries) {
  auto c = make(LrScheduleConfig::Kind::Step, 5, 0.5);
  c.step_size = 30;
  c.gamma = 0.1;
  EXPECT_NEAR(lr_at(c, 0), 0.05, kTol);
  EXPECT_EQ(lr_at(c, 5), 0.1);
  EXPECT_EQ(lr_at(c, 5 + 29), 0.1);
  EXPECT_NEAR(lr_at(c, 5 + 30), 0.01, kTol);
  EXPECT_NEAR(lr_at(c, 5 + 59), 0.01, kTol);
  EXPECT_NEAR(lr_at(c, 5 + 60), 0.001, kTol);
  EXPECT_NEAR(lr_at(c, 5 + 95), 0.0001, kTol);
}

TEST(LrScheduleTest, CosineKeyPoints) {
  auto c = make(LrScheduleConfig::Kind::Cosine, 10, 0);
  c.total_steps = 110;
  c.min_lr = 0.002;
  EXPECT_EQ(lr_at(c, 0), 0.0);
  EXPECT_NEAR(lr_at(c, 10), 0.1, kTol);                  // end of warm-up: base
  EXPECT_NEAR(lr_at(c, 60), (0.1 + 0.002) / 2, kTol);    // halfway through the decay
  EXPECT_NEAR(lr_at(c, 35), 0.002 + 0.098 * (1 + std::numbers::sqrt2 / 2) / 2, kTol);  // a quarter
  EXPECT_NEAR(lr_at(c, 109), 0.002 + 0.098 * (1 + std::cos(std::numbers::pi * 99 / 100)) / 2, kTol);
  EXPECT_GT(lr_at(c, 109), 0.002);                       // the last step of the run is above the floor
  EXPECT_EQ(lr_at(c, 110), 0.002);                       // and total_steps is the floor
  EXPECT_EQ(lr_at(c, 500), 0.002);
  // Monotone after warm-up.
  for (int64_t s = 10; s < 110; ++s) EXPECT_GT(lr_at(c, s), lr_at(c, s + 1)) << s;
}

TEST(LrScheduleTest, CosineWithoutWarmUpOrFloor) {
  auto c = make(LrScheduleConfig::Kind::Cosine, 0, 0);
  c.total_steps = 4;
  EXPECT_EQ(lr_at(c, 0), 0.1);
  EXPECT_NEAR(lr_at(c, 1), 0.1 * (1 + std::numbers::sqrt2 / 2) / 2, kTol);
  EXPECT_NEAR(lr_at(c, 2), 0.05, kTol);
  EXPECT_NEAR(lr_at(c, 4), 0.0, kTol);
}

TEST(LrScheduleTest, Validation) {
  using K = LrScheduleConfig::Kind;
  auto bad = [](LrScheduleConfig c) { return [c] { lr_at(c, 0); }; };
  auto c = make(K::Constant, 0, 0);
  c.base_lr = -0.1;
  testkit::expect_user_error_naming(bad(c), "--lr");
  c = make(K::Constant, -1, 0);
  testkit::expect_user_error_naming(bad(c), "--warmup-steps");
  c = make(K::Constant, 5, 1.5);
  testkit::expect_user_error_naming(bad(c), "--warmup-start-factor");
  c = make(K::Step, 0, 0);
  testkit::expect_user_error_naming(bad(c), "--lr-step-size");  // step_size left at 0
  c.step_size = 10;
  c.gamma = 0;
  testkit::expect_user_error_naming(bad(c), "--lr-gamma");
  c = make(K::Cosine, 10, 0);
  c.total_steps = 10;
  testkit::expect_user_error_naming(bad(c), "--warmup-steps");
  c.total_steps = 100;
  c.min_lr = 0.2;  // above the base rate
  testkit::expect_user_error_naming(bad(c), "--min-lr");
  c.min_lr = 0.01;
  EXPECT_NO_THROW(validate_lr_schedule(c));
  EXPECT_THROW(lr_at(c, -1), InternalError);
}

TEST(LrScheduleTest, RangeRisesExponentiallyFromMinLrToLr) {
  auto c = make(LrScheduleConfig::Kind::Range, 0, 0);
  c.base_lr = 10;
  c.min_lr = 1e-5;
  c.total_steps = 7;  // six intervals of a factor 10 each
  const double expected[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
  for (int s = 0; s < 7; ++s) EXPECT_NEAR(lr_at(c, s) / expected[s], 1, 1e-12) << "step " << s;
  EXPECT_EQ(lr_at(c, 0), 1e-5);
  EXPECT_EQ(lr_at(c, 6), 10.0);  // exactly --lr at the last step
  EXPECT_EQ(lr_at(c, 9), 10.0);
  // After a warm-up of 2 steps the rise spans the 5 steps left.
  c.warmup_steps = 2;
  c.warmup_start_factor = 0.5;
  EXPECT_EQ(lr_at(c, 0), 5.0);
  EXPECT_EQ(lr_at(c, 2), 1e-5);
  EXPECT_NEAR(lr_at(c, 4) / (1e-5 * std::pow(1e6, 0.5)), 1, 1e-12);
  EXPECT_EQ(lr_at(c, 6), 10.0);
}

TEST(LrScheduleTest, RangeNeedsAPositiveMinLrBelowLrAndTwoSteps) {
  auto c = make(LrScheduleConfig::Kind::Range, 0, 0);
  c.total_steps = 10;
  const auto bad = [](const LrScheduleConfig& x) { return [x] { validate_lr_schedule(x); }; };
  c.min_lr = 0;  // a rise from zero is no exponential
  testkit::expect_user_error_naming(bad(c), "--min-lr");
  c.min_lr = 0.1;  // equal to --lr
  testkit::expect_user_error_naming(bad(c), "--min-lr");
  c.min_lr = 1e-6;
  EXPECT_NO_THROW(validate_lr_schedule(c));
  c.total_steps = 1;
  testkit::expect_user_error_naming(bad(c), "--max-steps");
  c.total_steps = 5;
  c.warmup_steps = 4;
  testkit::expect_user_error_naming(bad(c), "--max-steps");
}

TEST(LrScheduleTest, ParseKind) {
  EXPECT_EQ(parse_lr_schedule_kind("range"), LrScheduleConfig::Kind::Range);
  EXPECT_STREQ(lr_schedule_kind_name(LrScheduleConfig::Kind::Range), "range");
  EXPECT_EQ(parse_lr_schedule_kind("constant"), LrScheduleConfig::Kind::Constant);
  EXPECT_EQ(parse_lr_schedule_kind("step"), LrScheduleConfig::Kind::Step);
  EXPECT_EQ(parse_lr_schedule_kind("cosine"), LrScheduleConfig::Kind::Cosine);
  EXPECT_STREQ(lr_schedule_kind_name(LrScheduleConfig::Kind::Cosine), "cosine");
  try {
    parse_lr_schedule_kind("x");
    ADD_FAILURE() << "no UserError";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "--lr-schedule: expected constant, step, cosine or range, got 'x'");
  }
}

}  // namespace
}  // namespace thaw
