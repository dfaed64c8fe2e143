// JPEG through libjpeg-turbo. libjpeg reports errors by calling error_exit, which must not return;
// the decoding runs in a function that holds only trivially destructible locals, so error_exit
// can longjmp out of it safely, and the C++ error is thrown once back outside.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>

#include "core/error.h"
#include "io/exif.h"
#include "io/image_decode.h"

namespace thaw {

namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char first_warning[JMSG_LENGTH_MAX];
};

void on_error_exit(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (level -1) are how libjpeg reports truncated or corrupt data that it papered over with
// grey: kept, and turned into an error when decoding ends. Trace messages (level >= 0) are dropped.
void on_emit_message(j_common_ptr c, int level) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  if (level >= 0) return;
  if (c->err->num_warnings++ == 0) (*c->err->format_message)(c, e->first_warning);
}

// A progressive JPEG may hold any number of scans, each a pass over the whole image: a few KB of
// them can keep a decoder busy for minutes. Past kMaxJpegScans the image is refused (libjpeg-turbo's
// own tools stop at 500 too).
void on_progress(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number <= kMaxJpegScans) return;
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  std::snprintf(e->message, sizeof e->message, "more than %d scans", static_cast<int>(kMaxJpegScans));
  std::longjmp(e->jump, 1);
}

struct Request {
  const uint8_t* data;
  size_t size;
  bool header_only;
  int64_t min_short_side;
  int64_t max_pixels;
};

struct Result {
  int64_t stored_width, stored_height;  // as in the file
  int64_t width, height;                // as decoded (after DCT scaling), before orientation
  int orientation;
  bool unsupported_colour;
  bool too_large;
  std::vector<uint8_t>* pixels;  // owned by the caller, so a longjmp never skips its destructor
};

// Returns false (message in err) on a libjpeg error. Only trivially destructible locals here.
bool run_libjpeg(const Request& req, Result& res, ErrorMgr& err) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);  // so that jpeg_destroy_decompress is safe even before create
  jpeg_progress_mgr progress;
  std::memset(&progress, 0, sizeof progress);
  progress.progress_monitor = on_progress;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  err.message[0] = err.first_warning[0] = '\0';
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, req.data, static_cast<unsigned long>(req.size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  res.stored_width = cinfo.image_width;
  res.stored_height = cinfo.image_height;
  res.orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      res.orientation = exif_orientation(m->data, m->data_length);
      break;
    }
  }
  res.unsupported_colour = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (req.header_only || res.unsupported_colour) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned>(jpeg_scale_denom(res.stored_width, res.stored_height, req.min_short_side));
  jpeg_calc_output_dimensions(&cinfo);
  res.width = cinfo.output_width;
  res.height = cinfo.output_height;
  res.too_large = res.width * res.height > req.max_pixels;
  if (res.too_large) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  jpeg_start_decompress(&cinfo);
  res.pixels->resize(static_cast<size_t>(res.width * res.height * 3));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = res.pixels->data() + static_cast<size_t>(cinfo.output_scanline) * res.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Result run(std::string_view bytes, const std::string& name, bool header_only, int64_t min_short_side,
           int64_t max_pixels, std::vector<uint8_t>* pixels) {
  ErrorMgr err;
  Result res{};
  res.pixels = pixels;
  const Request req{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), header_only, min_short_side,
                    max_pixels};
  if (!run_libjpeg(req, res, err)) fail_user(name, ": corrupt or unsupported JPEG (", err.message, ")");
  if (err.pub.num_warnings > 0) fail_user(name, ": corrupt or truncated JPEG (", err.first_warning, ")");
  if (res.unsupported_colour) fail_user(name, ": CMYK JPEG images are not supported (expected RGB or grey)");
  if (res.too_large) fail_too_many_pixels(name, res.width, res.height, max_pixels);
  return res;
}

}  // namespace

ImageHeader read_jpeg_header(std::string_view bytes, const std::string& name) {
  const Result r = run(bytes, name, true, 0, kMaxImagePixels, nullptr);
  ImageHeader h;
  h.format = "jpeg";
  h.orientation = r.orientation;
  const bool swaps = r.orientation >= 5;
  h.width = swaps ? r.stored_height : r.stored_width;
  h.height = swaps ? r.stored_width : r.stored_height;
  return h;
}

Image decode_jpeg(std::string_view bytes, const std::string& name, int64_t min_short_side, int64_t max_pixels) {
  Image stored;
  const Result r = run(bytes, name, false, min_short_side, max_pixels, &stored.rgb);
  stored.width = r.width;
  stored.height = r.height;
  return r.orientation == 1 ? stored : apply_orientation(stored, r.orientation);
}

}  // namespace thaw
