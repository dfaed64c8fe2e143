// PNG through libpng. libpng reports errors by longjmp to the point set with png_jmpbuf; the
// decoding runs in a function that holds only trivially destructible locals, so that jump is safe,
// and the C++ error is thrown once back outside. Gamma and colour-profile chunks are not applied
// (as PIL and torchvision do not).
#include <csetjmp>
#include <cstring>
#include <vector>

#include <png.h>

#include "core/error.h"
#include "io/image_decode.h"

namespace thaw {

namespace {

struct Cursor {
  const uint8_t* data;
  size_t size;
  size_t at;
  char message[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* c = static_cast<Cursor*>(png_get_error_ptr(png));
  std::strncpy(c->message, msg, sizeof c->message - 1);
  c->message[sizeof c->message - 1] = '\0';
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble; the pixels are fine

void on_read(png_structp png, png_bytep out, size_t n) {
  auto* c = static_cast<Cursor*>(png_get_io_ptr(png));
  if (c->size - c->at < n) png_error(png, "unexpected end of file");
  std::memcpy(out, c->data + c->at, n);
  c->at += n;
}

struct Result {
  int64_t width, height;
  int channels;  // of the decoded rows: 3 (RGB), 4 (RGBA) or 1 (palette indices, one per byte)
  bool sixteen;  // rows of 16-bit samples in the machine's byte order
  int palette_entries;
  uint8_t palette[256 * 3];
  int64_t max_pixels;
  bool too_large;
  std::vector<uint8_t>* rows;      // owned by the caller, so a longjmp never skips a destructor
  std::vector<png_bytep>* row_ptrs;
};

// Returns false (message in cursor) on a libpng error. Only trivially destructible locals here.
bool run_libpng(Cursor& cursor, bool header_only, Result& res) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &cursor, on_error, on_warning);
  if (png == nullptr) {
    std::strcpy(cursor.message, "cannot create a libpng reader");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::strcpy(cursor.message, "cannot create a libpng reader");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &cursor, on_read);
  // A chunk's length comes from the file: no ancillary chunk may make libpng allocate more than this
  // (a 57-byte file declaring a 1 GiB text chunk once cost 1.2 GB before its rejection).
  png_set_chunk_malloc_max(png, kMaxPngChunkBytes);
  // Chunks whose content is never used are skipped unread: libpng would otherwise allocate a text
  // chunk's declared length whatever the limit above (1 GiB for a 57-byte file).
  static constexpr png_byte kIgnored[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
                                         "sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, kIgnored, static_cast<int>(sizeof kIgnored / 5));
  png_read_info(png, info);
  res.width = png_get_image_width(png, info);
  res.height = png_get_image_height(png, info);
  res.too_large = res.width * res.height > res.max_pixels;
  // Deflate expands at most 1032:1: a header claiming more pixels than the file's bytes can hold is
  // refused before its rows are allocated (a small file claiming 16384x16384 once cost 1 GB).
  const uint64_t raw = (static_cast<uint64_t>(png_get_rowbytes(png, info)) + 1) * static_cast<uint64_t>(res.height);
  if (!res.too_large && raw / 1032 > cursor.size) png_error(png, "the header claims more pixels than the file holds");
  if (header_only || res.too_large) {
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
  }
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  // 16-bit samples are kept whole (io/pixel_mapping.h), in the machine's byte order.
  res.sixteen = bit_depth == 16;
  if (res.sixteen) png_set_swap(png);
  // Palette images come back as indices, mapped to colours in decode_png where an index past the
  // palette is an error (libpng would give such a pixel black without a word).
  res.palette_entries = 0;
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp palette = nullptr;
    int entries = 0;
    if (png_get_PLTE(png, info, &palette, &entries) == 0 || entries < 1 || entries > 256) {
      png_error(png, "a palette image without a palette");
    }
    res.palette_entries = entries;
    for (int i = 0; i < entries; ++i) {
      res.palette[3 * i] = palette[i].red;
      res.palette[3 * i + 1] = palette[i].green;
      res.palette[3 * i + 2] = palette[i].blue;
    }
    if (bit_depth < 8) png_set_packing(png);
  }
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) {
    if (bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  res.channels = png_get_channels(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  const bool indices = res.palette_entries > 0 && res.channels == 1;
  if (res.channels != 3 && res.channels != 4 && !indices) png_error(png, "unexpected channel count after conversion");
  res.rows->resize(row_bytes * static_cast<size_t>(res.height));
  res.row_ptrs->resize(static_cast<size_t>(res.height));
  for (int64_t y = 0; y < res.height; ++y) (*res.row_ptrs)[y] = res.rows->data() + y * row_bytes;
  png_read_image(png, res.row_ptrs->data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

Result run(std::string_view bytes, const std::string& name, bool header_only, int64_t max_pixels,
           std::vector<uint8_t>* rows) {
  Cursor cursor{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), 0, {}};
  std::vector<png_bytep> row_ptrs;
  Result res{};
  res.rows = rows;
  res.row_ptrs = &row_ptrs;
  res.max_pixels = max_pixels;
  if (!run_libpng(cursor, header_only, res)) fail_user(name, ": corrupt or unsupported PNG (", cursor.message, ")");
  if (res.too_large) fail_too_many_pixels(name, res.width, res.height, max_pixels);
  return res;
}

}  // namespace

ImageHeader read_png_header(std::string_view bytes, const std::string& name, int64_t max_pixels) {
  const Result r = run(bytes, name, true, max_pixels, nullptr);
  ImageHeader h;
  h.format = "png";
  h.width = r.width;
  h.height = r.height;
  return h;
}

namespace {

// RGB or RGBA rows of 16-bit samples to a full-precision image, alpha dropped.
Image sixteen_bit_image(const Result& r, const std::vector<uint8_t>& rows) {
  const size_t n = static_cast<size_t>(r.width * r.height);
  std::vector<uint16_t> rgb16(3 * n);
  for (size_t i = 0; i < n; ++i) std::memcpy(rgb16.data() + 3 * i, rows.data() + 2 * r.channels * i, 6);
  return image_from_rgb16(r.width, r.height, std::move(rgb16));
}

}  // namespace

Image decode_png(std::string_view bytes, const std::string& name, int64_t max_pixels) {
  std::vector<uint8_t> rows;
  const Result r = run(bytes, name, false, max_pixels, &rows);
  if (r.sixteen) return sixteen_bit_image(r, rows);
  Image img;
  img.width = r.width;
  img.height = r.height;
  if (r.channels == 3) {
    img.rgb = std::move(rows);
    return img;
  }
  const size_t pixels = static_cast<size_t>(r.width * r.height);
  if (r.channels == 1) {
    img.rgb.resize(pixels * 3);
    for (size_t i = 0; i < pixels; ++i) {
      const int index = rows[i];
      if (index >= r.palette_entries) {
        fail_user(name, ": corrupt PNG (a pixel's palette index ", index, " is beyond the palette of ", r.palette_entries,
                  " colours)");
      }
      std::memcpy(img.rgb.data() + 3 * i, r.palette + 3 * index, 3);
    }
    return img;
  }
  img.rgb.resize(static_cast<size_t>(r.width * r.height * 3));
  const size_t n = static_cast<size_t>(r.width * r.height);
  for (size_t i = 0; i < n; ++i) std::memcpy(img.rgb.data() + 3 * i, rows.data() + 4 * i, 3);
  return img;
}

}  // namespace thaw
