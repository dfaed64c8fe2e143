#include "cli/flag_range.h"

#include "io/image_decode.h"
#include "io/pixel_mapping.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "graph/inception_v3.h"
#include "graph/inception_v4.h"

namespace thaw::cli {
namespace {

std::string bound_text(double v, bool whole) {
  std::ostringstream os;
  if (v >= 18446744073709551615.0) return "2^64 - 1";  // the largest uint64, which a double rounds up
  if (whole || (v == std::floor(v) && std::fabs(v) < 1e15)) os << std::fixed << std::setprecision(0);  // 1000000, not 1e+06
  os << v;
  return os.str();
}

}  // namespace

FlagRange whole(int64_t lo, int64_t hi, std::string note) {
  return FlagRange{static_cast<double>(lo), static_cast<double>(hi), false, false, true, std::move(note)};
}

FlagRange real(double lo, double hi, bool open_lo, bool open_hi) {
  return FlagRange{lo, hi, open_lo, open_hi, false, {}};
}

FlagRange threads_range() { return whole(0, kMaxThreads, "0: all cores"); }
FlagRange fraction_range() { return real(0, 1, false, true); }

FlagRange input_size_range() { return whole(std::max(kMinInputSize, kMinInputSizeV3), kMaxInputSize); }

FlagRange seed_range() {
  FlagRange r = whole(0, 0);
  r.hi = 18446744073709551615.0;
  return r;
}

std::string describe(const FlagRange& r) {
  std::string s = r.whole ? "whole number in " : "number in ";
  s += r.lo_open ? "(" : "[";
  s += bound_text(r.lo, r.whole) + ", " + bound_text(r.hi, r.whole);
  s += r.hi_open ? ")" : "]";
  if (!r.note.empty()) s += "; " + r.note;
  return s;
}

std::string range_error(const FlagRange& r, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  const bool parsed = ec == std::errc{} && ptr == end;
  const bool inside = parsed && std::isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) &&
                      (r.hi_open ? v < r.hi : v <= r.hi) && (!r.whole || v == std::floor(v));
  if (inside) return {};
  return "expected a " + describe(r) + ", got " + (text.empty() ? std::string("nothing") : text);
}

CLI::Validator in_range(const FlagRange& r) {
  return CLI::Validator([r](std::string& text) { return range_error(r, text); }, describe(r), kFlagRangeName);
}

CLI::Option* add_max_image_pixels_flag(CLI::App* sub, int64_t& pixels) {
  return sub
      ->add_option("--max-image-pixels", pixels,
                   "Refuse images of more pixels as decoded, before decoding them (the default, 2^28, lets one "
                   "image take 768 MiB of RGB)")
      ->capture_default_str()
      ->check(in_range(whole(1, kMaxImagePixelsFlag)));
}

void add_pixel_mapping_flags(CLI::App* sub, std::string& window, int64_t& frame) {
  const auto window_error = [](std::string& text) -> std::string {
    try {
      parse_window(text);
    } catch (const UserError& e) {
      const std::string m = e.what();
      const std::string flag = "--window: ";
      return m.rfind(flag, 0) == 0 ? m.substr(flag.size()) : m;
    }
    return {};
  };
  sub->add_option("--window", window,
                  "DICOM VOI window CENTRE,WIDTH for every DICOM file, in place of each file's own (e.g. 40,400)")
      ->check(CLI::Validator(window_error, "CENTRE,WIDTH", "window"));
  sub->add_option("--dicom-frame", frame, "The frame read from a multi-frame DICOM file, from 0")
      ->capture_default_str()
      ->check(in_range(whole(0, std::numeric_limits<int32_t>::max())));
}

}  // namespace thaw::cli
