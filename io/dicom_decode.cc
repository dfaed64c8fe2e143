// DICOM through GDCM (Debian's libgdcm-dev): GDCM parses the file and decodes its pixel data
// (uncompressed, RLE, JPEG, JPEG-LS, JPEG 2000); the value mapping to grey levels is thaw's own,
// io/pixel_mapping.h's stated rule, so that it is the same for every transfer syntax and is
// checked against pydicom's (tests/io/dicom_decode_test.cc).
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <gdcmTrace.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <istream>
#include <mutex>
#include <optional>
#include <streambuf>
#include <vector>

#include "core/error.h"
#include "io/dicom_values.h"
#include "io/image_decode.h"

namespace thaw {

namespace {

// An istream over bytes already in memory (GDCM reads from a stream and seeks in it).
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view b) {
    char* p = const_cast<char*>(b.data());  // read only: no put area is ever set
    setg(p, p, p + b.size());
  }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    const off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : egptr() - eback();
    return seekpos(pos_type(base + off), std::ios_base::in);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
    if (pos < 0 || pos > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + static_cast<off_type>(pos), egptr());
    return pos;
  }
};

// GDCM writes its warnings and errors to std::cerr through process-wide switches; thaw reports
// failures itself, in one line naming the file, so they are turned off once, before any read.
void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
    gdcm::Trace::SetDebug(false);
  });
}

// Parses the file with a plain reader (no image extraction), all of it or up to `before`;
// false when GDCM cannot. The reader keeps what it parsed, not the stream.
bool parse(std::string_view bytes, gdcm::Reader& r, const std::optional<gdcm::Tag>& before = std::nullopt) {
  ViewBuf buf(bytes);
  std::istream in(&buf);
  r.SetStream(in);
  return before ? r.ReadUpToTag(*before) : r.Read();
}

// Whether the file parses as DICOM and holds a Pixel Data element: tells "no image in it" from
// "corrupt" when GDCM's image reader refuses a file.
bool has_pixel_data(std::string_view bytes) {
  gdcm::Reader r;
  return !parse(bytes, r) || r.GetFile().GetDataSet().FindDataElement(gdcm::Tag(0x7fe0, 0x0010));
}

// What a decoder needs of one file, its pixel data not yet decoded.
struct Opened {
  gdcm::ImageReader reader;
  int64_t width = 0, height = 0, frames = 1;
  int samples = 1, bits_allocated = 0, bits_stored = 0;
  bool is_signed = false;
  std::string photometric;
};

// Debian's GDCM is built with its assertions on, so a file that trips one would abort thaw. Those
// found are refused first: a file meta group that runs to the end of the file, a Frame Increment
// Pointer without a Number of Frames (pydicom's rtdose_1frame.dcm). GDCM also allocates what a
// value's length claims before reading it: a Pixel Data claim past the end of the file is refused
// here (other elements are not looked at: that would be a DICOM parser of thaw's own).
void refuse_what_aborts_gdcm(std::string_view bytes, const std::string& name) {
  if (!meta_group_complete(bytes)) {
    fail_user(name, ": truncated or corrupt DICOM (its file meta information does not end before the file does)");
  }
  if (const std::optional<PixelDataClaim> c = pixel_data_claim(bytes); c && c->length > bytes.size() - c->value_at) {
    fail_user(name, ": truncated DICOM (its pixel data claim ", c->length, " bytes; the file ends ",
              bytes.size() - c->value_at, " bytes into them)");
  }
  // Up to the element after Number of Frames (0028,0008) and Frame Increment Pointer (0028,0009):
  // the rest of the header is the image reader's to parse.
  gdcm::Reader r;
  if (!parse(bytes, r, gdcm::Tag(0x0028, 0x000a))) return;  // the image reader says why
  const gdcm::DataSet& ds = r.GetFile().GetDataSet();
  if (ds.FindDataElement(gdcm::Tag(0x0028, 0x0009)) && !ds.FindDataElement(gdcm::Tag(0x0028, 0x0008))) {
    fail_user(name, ": DICOM Frame Increment Pointer without Number of Frames (expected both, or neither)");
  }
}

void open_dicom(std::string_view bytes, const std::string& name, int64_t max_pixels, Opened& o) {
  quiet_gdcm();
  refuse_what_aborts_gdcm(bytes, name);
  ViewBuf buf(bytes);
  std::istream in(&buf);
  o.reader.SetStream(in);
  if (!o.reader.Read()) {
    if (!has_pixel_data(bytes)) fail_user(name, ": DICOM file without pixel data (expected an image)");
    fail_user(name, ": corrupt or unsupported DICOM (GDCM cannot read it as an image)");
  }
  const gdcm::Image& im = o.reader.GetImage();
  const unsigned* dims = im.GetDimensions();
  o.width = dims[0];
  o.height = dims[1];
  o.frames = im.GetNumberOfDimensions() > 2 ? dims[2] : 1;
  const gdcm::PixelFormat& pf = im.GetPixelFormat();
  o.samples = pf.GetSamplesPerPixel();
  o.bits_allocated = pf.GetBitsAllocated();
  o.bits_stored = pf.GetBitsStored();
  o.is_signed = pf.GetPixelRepresentation() == 1;
  o.photometric = gdcm::PhotometricInterpretation::GetPIString(im.GetPhotometricInterpretation().GetType());
  while (!o.photometric.empty() && o.photometric.back() == ' ') o.photometric.pop_back();  // the standard's padding
  if (o.width < 1 || o.height < 1 || o.frames < 1) {
    fail_user(name, ": DICOM image of ", o.width, "x", o.height, " pixels and ", o.frames, " frames (expected at least 1)");
  }
  if (o.width * o.height > max_pixels) fail_too_many_pixels(name, o.width, o.height, max_pixels);
}

bool is_ybr_full(const Opened& o) { return o.photometric == "YBR_FULL" || o.photometric == "YBR_FULL_422"; }

// Refusals of what thaw does not read, each naming the file and what was expected; the same for the
// header alone and for the pixels.
void check_supported(const Opened& o, const std::string& name, const PixelMapping& mapping) {
  const bool grey = o.photometric == "MONOCHROME1" || o.photometric == "MONOCHROME2";
  const bool colour = o.photometric == "RGB" || o.photometric == "YBR_FULL" || o.photometric == "YBR_FULL_422" ||
                      o.photometric == "YBR_ICT" || o.photometric == "YBR_RCT";
  if (!(grey && o.samples == 1) && !(colour && o.samples == 3)) {
    fail_user(name, ": DICOM photometric interpretation ", o.photometric, " with ", o.samples,
              " samples per pixel is not read (expected MONOCHROME1 or MONOCHROME2 grey, or RGB/YBR_FULL colour)");
  }
  if ((o.bits_allocated != 8 && o.bits_allocated != 16) || o.bits_stored < 1 || o.bits_stored > o.bits_allocated) {
    fail_user(name, ": DICOM pixels of ", o.bits_allocated, " bits allocated, ", o.bits_stored,
              " stored are not read (expected 8 or 16 bits allocated)");
  }
  if (colour && o.is_signed) fail_user(name, ": signed colour DICOM pixels are not read (expected unsigned RGB)");
  if (is_ybr_full(o) && o.bits_allocated == 16) {
    fail_user(name, ": 16-bit YBR_FULL DICOM pixels are not read (expected RGB)");
  }
  // GDCM 3.0 puts the bytes of 16-bit colour RLE in the wrong order (pydicom's SC_rgb_rle_16bit.dcm
  // comes out as other colours; tests/io/dicom_decode_test.cc), so it is refused, not misread.
  if (colour && o.bits_allocated == 16 && o.reader.GetImage().GetTransferSyntax() == gdcm::TransferSyntax::RLELossless) {
    fail_user(name, ": 16-bit colour RLE DICOM is not read (GDCM decodes it wrongly; store it uncompressed)");
  }
  if (mapping.frame >= o.frames) {
    fail_user(name, ": --dicom-frame ", mapping.frame, " is past the file's ", o.frames, " frame",
              o.frames == 1 ? "" : "s", " (frames count from 0)");
  }
}

// The stored values of one frame as integers: bits above Bits Stored cleared, signed ones extended.
std::vector<int32_t> frame_values(const Opened& o, const std::vector<char>& all, int64_t frame) {
  const int64_t n = o.width * o.height * o.samples;
  const int bytes = o.bits_allocated / 8;
  const char* at = all.data() + frame * n * bytes;
  const uint32_t mask = (uint32_t{1} << o.bits_stored) - 1;  // at most 16 bits (check_supported)
  const uint32_t sign = uint32_t{1} << (o.bits_stored - 1);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint32_t raw = 0;
    if (bytes == 1) {
      raw = static_cast<uint8_t>(at[i]);
    } else {
      uint16_t s;
      std::memcpy(&s, at + 2 * i, 2);  // GDCM hands the buffer over in the machine's byte order
      raw = s;
    }
    raw &= mask;
    v[static_cast<size_t>(i)] =
        o.is_signed && (raw & sign) != 0 ? static_cast<int32_t>(raw) - static_cast<int32_t>(mask) - 1
                                         : static_cast<int32_t>(raw);
  }
  return v;
}

std::vector<char> decode_all_frames(const Opened& o, const std::string& name, int64_t max_pixels) {
  const gdcm::Image& im = o.reader.GetImage();
  const uint64_t length = im.GetBufferLength();
  const uint64_t expected =
      static_cast<uint64_t>(o.width * o.height * o.frames) * static_cast<uint64_t>(o.samples * o.bits_allocated / 8);
  // Each frame is at most max_pixels; all frames together at most 8 bytes per allowed pixel, so a
  // small compressed file cannot make thaw decode gigabytes.
  if (length != expected || length > 8 * static_cast<uint64_t>(max_pixels)) {
    fail_user(name, ": DICOM pixel data of ", o.frames, " frames would decode to ", length,
              " bytes (thaw decodes at most ", 8 * max_pixels, " bytes of one file, --max-image-pixels)");
  }
  // Uncompressed YBR_FULL_422 stores two samples a pixel (Y Y Cb Cr per pair); GDCM expands them.
  check_pixel_data_length(o.reader.GetFile().GetDataSet(),
                          o.photometric == "YBR_FULL_422" ? expected / 3 * 2 : expected, name);
  std::vector<char> all(static_cast<size_t>(length));
  if (!im.GetBuffer(all.data())) {
    fail_user(name, ": cannot decode the DICOM pixel data (transfer syntax ", im.GetTransferSyntax().GetString(),
              " is compressed in a way GDCM cannot decode, or the data are corrupt)");
  }
  return all;
}

Image grey_image(const Opened& o, const std::vector<int32_t>& v, const GreyRule& rule) {
  std::vector<double> m(v.size());
  for (size_t i = 0; i < v.size(); ++i) m[i] = v[i] * rule.slope + rule.intercept;
  // Without a window: the frame's lowest to highest value.
  double lo = 0, range = 0;
  if (!rule.window) {
    const auto [min, max] = std::minmax_element(m.begin(), m.end());
    lo = *min;
    range = *max - *min;
  }
  const bool invert = o.photometric == "MONOCHROME1";
  std::vector<uint16_t> rgb16(v.size() * 3);
  for (size_t i = 0; i < m.size(); ++i) {
    double y = rule.window ? voi_apply(m[i], *rule.window, rule.function)
                           : (range > 0 ? (m[i] - lo) / range : 0.0);
    if (invert) y = 1 - y;
    std::fill_n(rgb16.begin() + static_cast<std::ptrdiff_t>(3 * i), 3, unit_to_u16(y));
  }
  return image_from_rgb16(o.width, o.height, std::move(rgb16));
}

Image colour_image(const Opened& o, const std::vector<int32_t>& v, bool planar) {
  const size_t n = static_cast<size_t>(o.width * o.height);
  const auto sample = [&](size_t pixel, int c) { return planar ? v[c * n + pixel] : v[3 * pixel + c]; };
  const bool ybr = is_ybr_full(o);
  if (o.bits_allocated == 8) {
    Image img;
    img.width = o.width;
    img.height = o.height;
    img.rgb.resize(3 * n);
    for (size_t p = 0; p < n; ++p) {
      const int s[3] = {sample(p, 0), sample(p, 1), sample(p, 2)};
      if (ybr) {
        ybr_full_to_rgb(s, img.rgb.data() + 3 * p);
      } else {
        for (int c = 0; c < 3; ++c) img.rgb[3 * p + c] = static_cast<uint8_t>(s[c]);
      }
    }
    return img;
  }
  const double full = std::ldexp(1.0, o.bits_stored) - 1;
  std::vector<uint16_t> rgb16(3 * n);
  for (size_t p = 0; p < n; ++p) {
    for (int c = 0; c < 3; ++c) rgb16[3 * p + c] = unit_to_u16(sample(p, c) / full);
  }
  return image_from_rgb16(o.width, o.height, std::move(rgb16));
}

}  // namespace

ImageHeader read_dicom_header(std::string_view bytes, const std::string& name, int64_t max_pixels,
                              const PixelMapping& mapping) {
  Opened o;
  open_dicom(bytes, name, max_pixels, o);
  check_supported(o, name, mapping);
  if (o.samples == 1) grey_rule(o.reader.GetFile().GetDataSet(), mapping, name);  // its refusals too
  ImageHeader h;
  h.format = "dicom";
  h.width = o.width;
  h.height = o.height;
  return h;
}

Image decode_dicom(std::string_view bytes, const std::string& name, int64_t max_pixels, const PixelMapping& mapping) {
  Opened o;
  open_dicom(bytes, name, max_pixels, o);
  check_supported(o, name, mapping);
  // The rule's refusals (a Modality LUT Sequence, an unknown VOI LUT Function) before any decoding.
  const std::optional<GreyRule> rule =
      o.samples == 1 ? std::optional(grey_rule(o.reader.GetFile().GetDataSet(), mapping, name)) : std::nullopt;
  const std::vector<int32_t> v = frame_values(o, decode_all_frames(o, name, max_pixels), mapping.frame);
  if (rule) return grey_image(o, v, *rule);
  return colour_image(o, v, o.reader.GetImage().GetPlanarConfiguration() == 1);
}

}  // namespace thaw
