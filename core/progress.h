#pragma once
// A progress line for long loops: done/total, a bar, loss, images/s and ETA. On a terminal it
// redraws in place; otherwise (logs, CI) it prints a line every `log_every_s` seconds.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace thaw {

class Progress {
 public:
  Progress(std::ostream& os, std::string label, int64_t total, bool interactive, double log_every_s = 10.0);
  // `images` counted since construction; `loss` < 0 is not shown.
  void update(int64_t done, int64_t images, double loss);
  void finish(const std::string& tail = "");

 private:
  std::string line(int64_t done, int64_t images, double loss) const;
  double elapsed() const;

  std::ostream& os_;
  std::string label_;
  int64_t total_;
  bool interactive_;
  double log_every_s_;
  double last_print_ = -1e9;
  std::chrono::steady_clock::time_point start_;
  int64_t last_done_ = 0, last_images_ = 0;
  double last_loss_ = -1;
};

std::string format_duration(double seconds);  // "1:05:03" / "4:07"

}  // namespace thaw
