#include "io/dicom_values.h"

#include <gdcmByteValue.h>
#include <gdcmDataElement.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace thaw {

namespace {

// The text of an element, "" when absent or empty.
std::string text_of(const gdcm::DataSet& ds, uint16_t group, uint16_t element) {
  const gdcm::Tag tag(group, element);
  if (!ds.FindDataElement(tag)) return {};
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) return {};
  return std::string(bv->GetPointer(), bv->GetLength());
}

std::string first_value(const std::string& text) {
  std::string v = text.substr(0, text.find('\\'));
  const auto blank = [](char c) { return c == ' ' || c == '\0'; };
  while (!v.empty() && blank(v.back())) v.pop_back();
  v.erase(v.begin(), std::find_if_not(v.begin(), v.end(), blank));
  return v;
}

// The first value of a decimal string (DS), or none when the element is absent or empty.
std::optional<double> decimal(const gdcm::DataSet& ds, uint16_t group, uint16_t element, const std::string& name,
                              const char* what) {
  const std::string v = first_value(text_of(ds, group, element));
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size() || !std::isfinite(d)) {
    fail_user(name, ": DICOM ", what, " is '", v, "' (expected a number)");
  }
  return d;
}

}  // namespace

GreyRule grey_rule(const gdcm::DataSet& ds, const PixelMapping& mapping, const std::string& name) {
  if (ds.FindDataElement(gdcm::Tag(0x0028, 0x3000))) {
    fail_user(name, ": DICOM Modality LUT Sequence is not applied by thaw (expected Rescale Slope/Intercept)");
  }
  GreyRule r;
  r.slope = decimal(ds, 0x0028, 0x1053, name, "Rescale Slope").value_or(1.0);
  r.intercept = decimal(ds, 0x0028, 0x1052, name, "Rescale Intercept").value_or(0.0);
  const std::string function = first_value(text_of(ds, 0x0028, 0x1056));
  if (function == "LINEAR_EXACT") {
    r.function = VoiFunction::LinearExact;
  } else if (function == "SIGMOID") {
    r.function = VoiFunction::Sigmoid;
  } else if (!function.empty() && function != "LINEAR") {
    fail_user(name, ": DICOM VOI LUT Function '", function, "' is not known (expected LINEAR, LINEAR_EXACT or SIGMOID)");
  }
  if (mapping.window) {
    r.window = mapping.window;
    return r;
  }
  const std::optional<double> centre = decimal(ds, 0x0028, 0x1050, name, "Window Center");
  const std::optional<double> width = decimal(ds, 0x0028, 0x1051, name, "Window Width");
  if (centre && width) {
    // LINEAR needs a width of at least 1, the other functions a positive one (PS3.3 C.11.2.1.2-3).
    if (r.function == VoiFunction::Linear ? *width < 1 : *width <= 0) {
      fail_user(name, ": DICOM Window Width ", *width, " is below the standard's least (give --window C,W)");
    }
    r.window = VoiWindow{*centre, *width};
  }
  return r;
}

std::optional<PixelDataClaim> pixel_data_claim(std::string_view bytes) {
  const auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])); };
  const auto le32 = [&](size_t i) { return byte(i) | byte(i + 1) << 8 | byte(i + 2) << 16 | byte(i + 3) << 24; };
  const auto be32 = [&](size_t i) { return byte(i) << 24 | byte(i + 1) << 16 | byte(i + 2) << 8 | byte(i + 3); };
  const auto is_vr = [&](size_t i) { return std::isupper(byte(i)) && std::isupper(byte(i + 1)); };
  const std::string_view le_tag("\xe0\x7f\x10\x00", 4), be_tag("\x7f\xe0\x00\x10", 4);
  const size_t le = bytes.find(le_tag, 132), be = bytes.find(be_tag, 132);
  const size_t at = std::min(le, be);
  if (at == std::string_view::npos) return std::nullopt;
  PixelDataClaim c;
  if (at + 12 <= bytes.size() && is_vr(at + 4)) {  // explicit VR: OB/OW, 2 reserved bytes, 32-bit length
    c.length = at == le ? le32(at + 8) : be32(at + 8);
    c.value_at = at + 12;
  } else if (at == le && at + 8 <= bytes.size()) {  // implicit VR little-endian
    c.length = le32(at + 4);
    c.value_at = at + 8;
  } else {
    return std::nullopt;
  }
  if (c.length == 0xffffffffu) return std::nullopt;
  return c;
}

void check_pixel_data_length(const gdcm::DataSet& ds, uint64_t expected_bytes, const std::string& name) {
  const gdcm::Tag pixel_data(0x7fe0, 0x0010);
  if (!ds.FindDataElement(pixel_data)) fail_user(name, ": DICOM file without pixel data (expected an image)");
  const gdcm::DataElement& de = ds.GetDataElement(pixel_data);
  if (de.GetSequenceOfFragments() != nullptr) return;  // compressed: its decoder finds a short stream
  const gdcm::ByteValue* bv = de.GetByteValue();
  const uint64_t held = bv == nullptr ? uint64_t{0} : static_cast<uint64_t>(bv->GetLength());
  if (held < expected_bytes) {
    fail_user(name, ": truncated DICOM (its pixel data hold ", held, " bytes of the ", expected_bytes,
              " its frames need)");
  }
}

void ybr_full_to_rgb(const int ybr[3], uint8_t* rgb) {
  const double y = ybr[0], cb = ybr[1] - 128.0, cr = ybr[2] - 128.0;
  const double out[3] = {y + 1.402 * cr, y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr,
                         y + 1.772 * cb};
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(std::clamp(std::floor(out[c] + 0.5), 0.0, 255.0));
}

bool meta_group_complete(std::string_view bytes) {
  size_t at = 132;
  const auto u16 = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[i]) | static_cast<uint8_t>(bytes[i + 1]) << 8);
  };
  while (at + 8 <= bytes.size() && u16(at) == 0x0002) {
    const std::string_view vr = bytes.substr(at + 4, 2);
    // PS3.5 7.1.2: these VRs have 2 reserved bytes and a 32-bit length; the others a 16-bit one.
    const bool long_form = vr == "OB" || vr == "OD" || vr == "OF" || vr == "OL" || vr == "OV" || vr == "OW" ||
                           vr == "SQ" || vr == "SV" || vr == "UC" || vr == "UN" || vr == "UR" || vr == "UT" ||
                           vr == "UV";
    uint64_t length = 0, header = 8;
    if (long_form) {
      if (at + 12 > bytes.size()) return false;
      length = u16(at + 8) | uint64_t{u16(at + 10)} << 16;
      header = 12;
    } else {
      length = u16(at + 6);
    }
    if (length == 0xffffffffu || at + header + length > bytes.size()) return false;
    at += header + length;
  }
  return at + 8 <= bytes.size();  // a data set element follows
}

bool is_dicom(std::string_view bytes) { return bytes.size() >= 132 && bytes.substr(128, 4) == "DICM"; }

}  // namespace thaw
