#pragma once
// How samples of more than 8 bits become the grey levels the network's input is made from: the
// stated rule that a run records (record.json data.pixel_mapping) and docs/data.md explains.
//
// 16-bit PNG and TIFF: a sample v of a b-bit image stands for v / (2^b - 1) of the full scale
// (PNG's own rule: samples are scaled to the whole range of their depth). Kept at full precision
// (Image::rgb16), never cut to its high byte.
//
// DICOM (single frame, or frame --dicom-frame of a multi-frame file), in the standard's order
// (PS3.3 C.11): the stored value through the modality transform (Rescale Slope and Intercept),
// then the VOI window of --window C,W or else the file's first Window Center/Width, by the file's
// VOI LUT Function (LINEAR, the default, as PS3.3 C.11.2.1.2.1 defines it; LINEAR_EXACT; SIGMOID);
// a file with neither is scaled from its frame's lowest to highest value. MONOCHROME1 is then
// inverted (its low values are white). The result, in [0, 1], is kept to 1/65535 (Image::rgb16).
// RGB files are taken as they are (8 bits: as 8-bit images).
#include <cstdint>
#include <optional>
#include <string>

namespace thaw {

// A VOI window: values below centre - width/2 are black, above centre + width/2 white.
struct VoiWindow {
  double centre = 0, width = 1;
};

// VOI LUT Function (0028,1056): how a window maps values (PS3.3 C.11.2.1.2-3).
enum class VoiFunction { Linear, LinearExact, Sigmoid };

struct PixelMapping {
  std::optional<VoiWindow> window;  // --window C,W: replaces every DICOM file's own window
  int64_t frame = 0;                // --dicom-frame: the frame of a multi-frame DICOM, from 0
};

// The options from the flags' values: window "" for the files' own, else "C,W" (parse_window).
PixelMapping pixel_mapping_of(const std::string& window, int64_t frame);

// "C,W" (both numbers, W >= 1 as the standard requires) or a UserError naming --window.
VoiWindow parse_window(const std::string& text);
// The --dicom-frame value, or a UserError naming the flag (0 to 2^31 - 1).
int64_t checked_dicom_frame(int64_t frame);

// PS3.3 C.11.2.1.2.1, output range [0, 1]: 0 where x <= c - 0.5 - (w - 1) / 2, 1 where
// x > c - 0.5 + (w - 1) / 2, else ((x - (c - 0.5)) / (w - 1) + 0.5). w == 1 is the step at c - 0.5.
double voi_linear(double x, const VoiWindow& w);

// PS3.3 C.11.2.1.3.2, [0, 1]: 0 where x <= c - w/2, 1 where x > c + w/2, else (x - c) / w + 0.5.
double voi_linear_exact(double x, const VoiWindow& w);
// PS3.3 C.11.2.1.3.1, (0, 1): 1 / (1 + exp(-4 (x - c) / w)).
double voi_sigmoid(double x, const VoiWindow& w);
double voi_apply(double x, const VoiWindow& w, VoiFunction f);

// One value in [0, 1] to the 16-bit full-precision scale, rounded to nearest.
uint16_t unit_to_u16(double y);

// The rule as a run records it, with the options' window and frame.
std::string describe_pixel_mapping(const PixelMapping& m);

}  // namespace thaw
