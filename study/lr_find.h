#pragma once
// The reading of an LR range test (`thaw lr-find`): the run's per-step rates and losses
// (metrics.jsonl), smoothed (engine/train/loss_smoother.h), and the rate it suggests.
//
// Suggestion: the rate where the smoothed loss falls fastest against log10(rate) (the most
// negative slope, by central differences, one-sided at the ends), looked for up to the step of the
// lowest smoothed loss; the run's divergence region is never considered. The first tenth of the
// points (at most 10) are passed over in both searches: the average of a few noisy losses is
// still mostly noise. Also given: the rate of the lowest smoothed loss divided by 10, the other
// common rule of thumb. A run whose smoothed loss never fell (lowest at the first two points
// searched) has no steepest descent: the suggestion is then the lowest-loss rate / 10 and
// `descended` is false.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace thaw {

struct LrFindPoint {
  int64_t step = 0;
  double lr = 0, loss = 0, smoothed = 0;
};

struct LrFindResult {
  std::vector<LrFindPoint> points;
  int64_t lowest = 0;    // index of the lowest smoothed loss
  int64_t steepest = 0;  // index of the steepest descent (== lowest when !descended)
  bool descended = false;
  double suggested_lr = 0;
  double lowest_lr_over_10 = 0;
};

// The leading points the searches pass over, of `points`: min(10, points / 10).
int64_t lr_find_skipped(int64_t points);

// `lrs` and `losses` of equal length >= 1, in step order from step 0; a non-finite loss ends the
// points (the divergence went past what can be read). UserError when nothing is left.
LrFindResult analyse_lr_range(const std::vector<double>& lrs, const std::vector<double>& losses);

// The step lines of `run_dir`/metrics.jsonl (the last line of a step counts), analysed.
LrFindResult read_lr_range(const std::filesystem::path& run_dir);

// {"method", "suggested_lr", "steepest": {step, lr, smoothed_loss}, "lowest": {...},
// "lowest_lr_over_10", "skipped_points", "descended", "points": [{step, lr, loss, smoothed_loss}]}.
nlohmann::ordered_json lr_find_json(const LrFindResult& r);

// "step,lr,loss,smoothed_loss" and a line per point, numbers in shortest round-trip form.
std::string lr_find_csv(const LrFindResult& r);

}  // namespace thaw
