#include "study/lr_find.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "engine/train/loss_smoother.h"

namespace thaw {

int64_t lr_find_skipped(int64_t points) { return std::min<int64_t>(10, points / 10); }

LrFindResult analyse_lr_range(const std::vector<double>& lrs, const std::vector<double>& losses) {
  THAW_CHECK(lrs.size() == losses.size(), lrs.size(), " rates for ", losses.size(), " losses");
  LrFindResult r;
  LossSmoother smoother;
  for (size_t i = 0; i < lrs.size(); ++i) {
    if (!std::isfinite(losses[i]) || !(lrs[i] > 0)) break;
    r.points.push_back({static_cast<int64_t>(i), lrs[i], losses[i], smoother.add(losses[i])});
  }
  if (r.points.empty()) fail_user("the range test has no step with a finite loss and a positive rate to read");
  const auto n = static_cast<int64_t>(r.points.size());
  const int64_t skip = lr_find_skipped(n);
  r.lowest = skip;
  for (int64_t i = skip + 1; i < n; ++i) {
    if (r.points[i].smoothed < r.points[r.lowest].smoothed) r.lowest = i;
  }
  r.lowest_lr_over_10 = r.points[r.lowest].lr / 10;
  r.steepest = r.lowest;
  r.suggested_lr = r.lowest_lr_over_10;
  if (r.lowest < skip + 2) return r;
  double best_slope = 0;
  for (int64_t i = skip; i <= r.lowest; ++i) {
    const int64_t a = i > 0 ? i - 1 : i, b = i < n - 1 ? i + 1 : i;
    const double dx = std::log10(r.points[b].lr) - std::log10(r.points[a].lr);
    if (!(dx > 0)) continue;
    const double slope = (r.points[b].smoothed - r.points[a].smoothed) / dx;
    if (slope < best_slope) {
      best_slope = slope;
      r.steepest = i;
    }
  }
  r.descended = best_slope < 0;
  if (r.descended) r.suggested_lr = r.points[r.steepest].lr;
  return r;
}

LrFindResult read_lr_range(const std::filesystem::path& run_dir) {
  const std::filesystem::path file = run_dir / "metrics.jsonl";
  std::ifstream in(file);
  if (!in) fail_user("cannot read ", file.string());
  std::map<int64_t, std::pair<double, double>> steps;  // step -> (lr, loss)
  for (std::string text; std::getline(in, text);) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) continue;
    const double lr = j.contains("lr") && j["lr"].is_number() ? j["lr"].get<double>() : NAN;
    const double loss = j.contains("loss") && j["loss"].is_number() ? j["loss"].get<double>() : NAN;
    steps[j["step"].get<int64_t>()] = {lr, loss};
  }
  std::vector<double> lrs, losses;
  int64_t expected = 0;
  for (const auto& [step, v] : steps) {
    if (step != expected++) break;  // a gap: only the steps from 0 on without one are a range test
    lrs.push_back(v.first);
    losses.push_back(v.second);
  }
  if (lrs.empty()) fail_user(file.string(), ": no step lines from step 0 on");
  return analyse_lr_range(lrs, losses);
}

namespace {

nlohmann::ordered_json point_json(const LrFindPoint& p) {
  return {{"step", p.step}, {"lr", p.lr}, {"smoothed_loss", p.smoothed}};
}

}  // namespace

nlohmann::ordered_json lr_find_json(const LrFindResult& r) {
  nlohmann::ordered_json j;
  j["method"] =
      "smoothed loss: exponential moving average (beta 0.98, bias-corrected); suggested_lr: the steepest "
      "descent of the smoothed loss against log10(lr), central differences, up to its lowest point; the first "
      "tenth of the points (at most 10) passed over while the average settles";
  j["suggested_lr"] = r.suggested_lr;
  j["descended"] = r.descended;
  j["steepest"] = point_json(r.points[static_cast<size_t>(r.steepest)]);
  j["lowest"] = point_json(r.points[static_cast<size_t>(r.lowest)]);
  j["lowest_lr_over_10"] = r.lowest_lr_over_10;
  j["skipped_points"] = lr_find_skipped(static_cast<int64_t>(r.points.size()));
  nlohmann::ordered_json pts = nlohmann::ordered_json::array();
  for (const LrFindPoint& p : r.points) {
    pts.push_back({{"step", p.step}, {"lr", p.lr}, {"loss", p.loss}, {"smoothed_loss", p.smoothed}});
  }
  j["points"] = std::move(pts);
  return j;
}

std::string lr_find_csv(const LrFindResult& r) {
  std::ostringstream os;
  os << "step,lr,loss,smoothed_loss\n";
  const auto num = [](double v) { return nlohmann::json(v).dump(); };
  for (const LrFindPoint& p : r.points) {
    os << p.step << ',' << num(p.lr) << ',' << num(p.loss) << ',' << num(p.smoothed) << '\n';
  }
  return os.str();
}

}  // namespace thaw
