#include "io/pixel_mapping.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace thaw {

VoiWindow parse_window(const std::string& text) {
  const size_t comma = text.find(',');
  const auto number = [&](const std::string& s, double& out) {
    size_t used = 0;
    try {
      out = std::stod(s, &used);
    } catch (const std::exception&) {
      return false;
    }
    return used == s.size() && std::isfinite(out);
  };
  VoiWindow w;
  if (comma == std::string::npos || !number(text.substr(0, comma), w.centre) ||
      !number(text.substr(comma + 1), w.width)) {
    fail_user("--window: expected CENTRE,WIDTH (two numbers, as DICOM's Window Center and Width), got '", text, "'");
  }
  if (w.width < 1) fail_user("--window: the width must be at least 1 (DICOM PS3.3 C.11.2.1.2), got ", text);
  return w;
}

int64_t checked_dicom_frame(int64_t frame) {
  if (frame < 0 || frame > std::numeric_limits<int32_t>::max()) {
    fail_user("--dicom-frame: expected a frame number from 0, got ", frame);
  }
  return frame;
}

PixelMapping pixel_mapping_of(const std::string& window, int64_t frame) {
  PixelMapping m;
  if (!window.empty()) m.window = parse_window(window);
  m.frame = checked_dicom_frame(frame);
  return m;
}

double voi_linear(double x, const VoiWindow& w) {
  const double c = w.centre - 0.5, half = (w.width - 1) / 2;
  if (x <= c - half) return 0;
  if (x > c + half) return 1;
  return (x - c) / (w.width - 1) + 0.5;
}

double voi_linear_exact(double x, const VoiWindow& w) {
  if (x <= w.centre - w.width / 2) return 0;
  if (x > w.centre + w.width / 2) return 1;
  return (x - w.centre) / w.width + 0.5;
}

double voi_sigmoid(double x, const VoiWindow& w) { return 1.0 / (1.0 + std::exp(-4.0 * (x - w.centre) / w.width)); }

double voi_apply(double x, const VoiWindow& w, VoiFunction f) {
  switch (f) {
    case VoiFunction::LinearExact: return voi_linear_exact(x, w);
    case VoiFunction::Sigmoid: return voi_sigmoid(x, w);
    case VoiFunction::Linear: break;
  }
  return voi_linear(x, w);
}

uint16_t unit_to_u16(double y) {
  if (!(y > 0)) return 0;
  if (y >= 1) return 65535;
  return static_cast<uint16_t>(std::lround(y * 65535.0));
}

std::string describe_pixel_mapping(const PixelMapping& m) {
  const std::string window =
      m.window ? cat_str("the window ", m.window->centre, ",", m.window->width, " (--window)")
               : std::string("the file's first Window Center/Width, else its frame's lowest to highest value");
  return cat_str("8-bit JPEG/PNG/TIFF: v/255; 16-bit PNG/TIFF: v/(2^bits-1), kept to 1/65535; DICOM frame ", m.frame,
                 ": Rescale Slope/Intercept, then ", window,
                 " by its VOI LUT Function (PS3.3 C.11.2.1.2), MONOCHROME1 inverted, kept to 1/65535");
}

}  // namespace thaw
