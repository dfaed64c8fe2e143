#pragma once
// The loss of an LR range test as it is judged (`thaw lr-find`, engine/train/trainer.cc's stop on
// divergence, and study/lr_find.h's suggestion): an exponential moving average with weight
// beta = 0.98 on the past, divided by 1 - beta^n so that the first steps are not pulled towards
// zero (the smoothing fastai's and Leslie Smith's range tests use). A non-finite loss makes the
// average non-finite, which counts as diverged.
#include <cmath>
#include <cstdint>
#include <limits>

namespace thaw {

class LossSmoother {
 public:
  explicit LossSmoother(double beta = 0.98) : beta_(beta) {}

  // Adds a step's loss; returns the smoothed loss after it.
  double add(double loss) {
    ++n_;
    avg_ = beta_ * avg_ + (1 - beta_) * loss;
    correction_ *= beta_;
    smoothed_ = avg_ / (1 - correction_);
    if (smoothed_ < best_) best_ = smoothed_;
    return smoothed_;
  }

  double smoothed() const { return smoothed_; }
  double best() const { return best_; }
  int64_t count() const { return n_; }

  // The smoothed loss is above `factor` times the lowest it has been (or is no longer finite).
  bool diverged(double factor) const { return n_ > 1 && !(smoothed_ <= factor * best_); }

 private:
  double beta_;
  double avg_ = 0, correction_ = 1, smoothed_ = 0;
  double best_ = std::numeric_limits<double>::infinity();
  int64_t n_ = 0;
};

}  // namespace thaw
