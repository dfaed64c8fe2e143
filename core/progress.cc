#include "core/progress.h"

#include <cmath>
#include <cstdio>

namespace thaw {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

Progress::Progress(std::ostream& os, std::string label, int64_t total, bool interactive, double log_every_s)
    : os_(os), label_(std::move(label)), total_(total), interactive_(interactive), log_every_s_(log_every_s),
      start_(std::chrono::steady_clock::now()) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::line(int64_t done, int64_t images, double loss) const {
  const double t = elapsed();
  const int width = 24;
  const int fill = total_ > 0 ? static_cast<int>(width * done / total_) : 0;
  std::string bar(static_cast<size_t>(fill), '=');
  if (fill < width) bar += '>';
  bar.resize(width, ' ');
  const double ips = t > 0 ? images / t : 0.0;
  const double eta = done > 0 ? t * static_cast<double>(total_ - done) / static_cast<double>(done) : NAN;
  char buf[256];
  if (loss >= 0) {
    std::snprintf(buf, sizeof buf, "%s [%s] %lld/%lld loss %.4f %.1f img/s elapsed %s ETA %s", label_.c_str(),
                  bar.c_str(), static_cast<long long>(done), static_cast<long long>(total_), loss, ips,
                  format_duration(t).c_str(), format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s [%s] %lld/%lld %.1f img/s elapsed %s ETA %s", label_.c_str(), bar.c_str(),
                  static_cast<long long>(done), static_cast<long long>(total_), ips, format_duration(t).c_str(),
                  format_duration(eta).c_str());
  }
  return buf;
}

void Progress::update(int64_t done, int64_t images, double loss) {
  last_done_ = done, last_images_ = images, last_loss_ = loss;
  const double t = elapsed();
  if (interactive_) {
    os_ << '\r' << line(done, images, loss) << "\x1b[K" << std::flush;
  } else if (t - last_print_ >= log_every_s_ || done == total_) {
    os_ << line(done, images, loss) << '\n' << std::flush;
    last_print_ = t;
  }
}

void Progress::finish(const std::string& tail) {
  if (interactive_) os_ << '\r' << line(last_done_, last_images_, last_loss_) << tail << "\x1b[K\n" << std::flush;
  else if (!tail.empty()) os_ << label_ << tail << '\n' << std::flush;
}

}  // namespace thaw
