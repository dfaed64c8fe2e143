#pragma once
// The DICOM attributes behind io/pixel_mapping.h's rule, read from a data set GDCM has parsed:
// the modality transform, the VOI window and its function, and checks of the pixel data's length.
// Text values (DS, CS) are read as the standard writes them: backslash-separated, space-padded.
#include <gdcmDataSet.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/pixel_mapping.h"

namespace thaw {

struct GreyRule {
  double slope = 1, intercept = 0;   // Rescale Slope (0028,1053) and Intercept (0028,1052)
  std::optional<VoiWindow> window;   // --window, else the file's first Window Center/Width
  VoiFunction function = VoiFunction::Linear;  // VOI LUT Function (0028,1056)
};

// UserErrors name the file: a Modality LUT Sequence (not applied by thaw), a window width below 1,
// an unknown VOI LUT Function, a value that is not a number.
GreyRule grey_rule(const gdcm::DataSet& ds, const PixelMapping& mapping, const std::string& name);

// Native (uncompressed) pixel data shorter than the frames need: a truncated file, refused by name.
void check_pixel_data_length(const gdcm::DataSet& ds, uint64_t expected_bytes, const std::string& name);

// The Pixel Data element's declared value, from the first (7fe0,0010) tag after the preamble:
// where its value starts and how long it says it is (explicit or implicit VR, either byte order);
// nullopt when there is none or its length is undefined (compressed fragments). GDCM allocates a
// declared length before reading it, and pads a short one with zeros without a word, so a claim
// past the end of the file is refused before GDCM reads it.
struct PixelDataClaim {
  size_t value_at = 0;
  uint64_t length = 0;
};
std::optional<PixelDataClaim> pixel_data_claim(std::string_view bytes);

// YBR_FULL to RGB (PS3.3 C.7.6.3.1.2, the coefficients of ITU-R BT.601 at full range), each
// channel rounded half up and clamped to 0..255.
void ybr_full_to_rgb(const int ybr[3], uint8_t* rgb);

// Whether the File Meta Information (group 0002, explicit VR little-endian, after "DICM") lies
// whole in `bytes` with a data set after it. GDCM aborts on an assertion (Debian builds it with
// them) when reading the meta group runs into the end of the file, so such files are refused
// before GDCM sees them.
bool meta_group_complete(std::string_view bytes);

// Whether the bytes are a DICOM Part 10 file: "DICM" after the 128-byte preamble.
bool is_dicom(std::string_view bytes);

}  // namespace thaw
