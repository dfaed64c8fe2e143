// TIFF through libtiff, first directory (page) only. Grey, RGB and palette images of 8 or 16 bits
// (and 1-, 2- or 4-bit grey and palette) are read sample by sample, so 16-bit values stay whole
// (io/pixel_mapping.h); other 8-bit photometrics (YCbCr, CMYK, CIELab) go through libtiff's own RGBA
// conversion. libtiff reports errors through a handler set on this handle alone, never a global one,
// so decoders in different threads do not share state; any error it reports fails the decode.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/image_decode.h"

namespace thaw {

namespace {

// libtiff sizes many allocations from the file's tags: no single one may exceed this, so a hostile
// header cannot make it allocate gigabytes.
constexpr tmsize_t kMaxLibtiffAlloc = tmsize_t{256} << 20;
// Our own buffer for one tile is sized by the file's TileWidth and TileLength in the same way.
constexpr uint64_t kMaxTileBytes = uint64_t{256} << 20;

struct Source {
  const char* data;
  uint64_t size;
  uint64_t at;
};

tmsize_t on_read(thandle_t h, void* out, tmsize_t n) {
  auto* s = static_cast<Source*>(h);
  if (n <= 0 || s->at >= s->size) return 0;
  const uint64_t count = std::min<uint64_t>(static_cast<uint64_t>(n), s->size - s->at);
  std::memcpy(out, s->data + s->at, count);
  s->at += count;
  return static_cast<tmsize_t>(count);
}

tmsize_t on_write(thandle_t, void*, tmsize_t) { return 0; }

toff_t on_seek(thandle_t h, toff_t off, int whence) {
  auto* s = static_cast<Source*>(h);
  if (whence == SEEK_SET) return s->at = off;
  const uint64_t base = whence == SEEK_CUR ? s->at : s->size;
  // toff_t is unsigned: a backward seek arrives as the two's complement of its distance.
  const bool backward = static_cast<int64_t>(off) < 0;
  if (backward ? toff_t{0} - off > base : off > UINT64_MAX - base) return static_cast<toff_t>(-1);
  return s->at = base + off;
}

int on_close(thandle_t) { return 0; }
toff_t on_size(thandle_t h) { return static_cast<Source*>(h)->size; }
// The bytes are const: mapping them would let libtiff decode (and byte-swap) in place.
int on_map(thandle_t, void**, toff_t*) { return 0; }
void on_unmap(thandle_t, void*, toff_t) {}

// The first message, into a fixed buffer: nothing here may throw through libtiff's C frames.
struct FirstError {
  char text[512] = "";
};

int on_error(TIFF*, void* user, const char*, const char* fmt, va_list ap) {
  auto* first = static_cast<FirstError*>(user);
  if (first->text[0] == '\0') {
    std::vsnprintf(first->text, sizeof first->text, fmt, ap);
    if (first->text[0] == '\0') std::snprintf(first->text, sizeof first->text, "libtiff error");
  }
  return 1;  // handled: libtiff's global handler (stderr) stays silent
}

// Warnings concern tags we do not use or that libtiff repaired; the pixels are checked on their own.
int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// An open TIFF over `bytes`. Not movable: libtiff holds pointers to the source and the message.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& name)
      : name_(name), source_{bytes.data(), bytes.size(), 0} {
    const std::unique_ptr<TIFFOpenOptions, decltype(&TIFFOpenOptionsFree)> opts(TIFFOpenOptionsAlloc(),
                                                                               TIFFOpenOptionsFree);
    if (!opts) fail("cannot allocate libtiff options");
    TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), on_error, &first_error_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), on_warning, nullptr);
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts.get(), kMaxLibtiffAlloc);
    // "m": read through on_read, never from a mapping of the caller's bytes (see on_map).
    tif_.reset(TIFFClientOpenExt(name.c_str(), "rm", &source_, on_read, on_write, on_seek, on_close, on_size, on_map,
                                 on_unmap, opts.get()));
    if (!tif_) fail("not a readable TIFF");
    check();
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  TIFF* tif() const { return tif_.get(); }
  const std::string& name() const { return name_; }
  uint64_t size() const { return source_.size; }

  // libtiff's first message if it gave one, else `what`.
  [[noreturn]] void fail(const std::string& what) const {
    fail_user(name_, ": corrupt or unsupported TIFF (", first_error_.text[0] ? first_error_.text : what, ")");
  }
  // libtiff goes on after some errors (a bad tag, a short strip read with "stop on error" off):
  // any it reported is a failure here.
  void check() const {
    if (first_error_.text[0] != '\0') fail("");
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    fail_user(name_, ": unsupported TIFF (", what, "; thaw reads 8- and 16-bit unsigned grey, RGB and palette TIFFs)");
  }

 private:
  const std::string& name_;
  Source source_;
  FirstError first_error_;
  std::unique_ptr<TIFF, decltype(&TIFFClose)> tif_{nullptr, TIFFClose};  // last: closed first
};

struct Layout {
  uint32_t width = 0, height = 0;
  uint16_t bits = 0, samples = 0, format = SAMPLEFORMAT_UINT, photometric = 0, planar = PLANARCONFIG_CONTIG;
  int orientation = 1;  // 1..8; anything else is taken as 1
  int64_t upright_width() const { return orientation >= 5 ? height : width; }
  int64_t upright_height() const { return orientation >= 5 ? width : height; }
};

// The first directory's tags, with its size checked against max_pixels before any pixel is read.
Layout read_layout(const Reader& r, int64_t max_pixels) {
  TIFF* tif = r.tif();
  Layout l;
  uint16_t orientation = 1;
  if (TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &l.width) != 1 || TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &l.height) != 1) {
    r.fail("no image width or length");
  }
  if (TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &l.photometric) != 1) r.fail("no photometric interpretation");
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &l.samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &l.format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &l.planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
  l.orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
  r.check();
  if (l.width == 0 || l.height == 0) r.fail(cat_str("an image of ", l.width, "x", l.height, " pixels"));
  if (uint64_t{l.width} * l.height > static_cast<uint64_t>(max_pixels)) {
    fail_too_many_pixels(r.name(), l.upright_width(), l.upright_height(), max_pixels);
  }
  return l;
}

enum class Kind { Grey, Rgb, Palette, LibtiffRgba };

std::string format_name(uint16_t format) {
  static constexpr const char* kNames[] = {"", "unsigned integer", "signed integer", "floating-point", "untyped",
                                           "complex integer", "complex floating-point"};
  return format >= 1 && format < std::size(kNames) ? kNames[format] : cat_str("SampleFormat ", format);
}

// Which sample counts and depths each directly read photometric takes.
bool direct_fits(Kind kind, const Layout& l) {
  const bool narrow = l.bits == 1 || l.bits == 2 || l.bits == 4;
  switch (kind) {
    case Kind::Grey: return (l.bits == 8 || l.bits == 16 || (narrow && l.samples == 1)) && l.samples <= 2;
    case Kind::Palette: return (l.bits == 8 || l.bits == 16 || narrow) && l.samples == 1;
    case Kind::Rgb: return (l.bits == 8 || l.bits == 16) && (l.samples == 3 || l.samples == 4);
    case Kind::LibtiffRgba: break;
  }
  return false;
}

Kind classify(const Reader& r, const Layout& l) {
  if (l.format != SAMPLEFORMAT_UINT) r.unsupported(cat_str(l.bits, "-bit ", format_name(l.format), " samples"));
  const std::string shape = cat_str("photometric interpretation ", l.photometric, " with ", l.samples,
                                    " samples per pixel of ", l.bits, " bits");
  Kind kind = Kind::LibtiffRgba;
  switch (l.photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE: kind = Kind::Grey; break;
    case PHOTOMETRIC_RGB: kind = Kind::Rgb; break;
    case PHOTOMETRIC_PALETTE: kind = Kind::Palette; break;
    default: break;
  }
  if (kind != Kind::LibtiffRgba) {
    if (!direct_fits(kind, l)) r.unsupported(shape);
    return kind;
  }
  if (l.bits != 8) r.unsupported(shape);
  char why[1024] = "";
  if (TIFFRGBAImageOK(r.tif(), why) != 1) r.unsupported(cat_str(shape, ": ", why));
  return kind;
}

// How the rows libtiff decodes become RGB.
struct Plan {
  Kind kind;
  int64_t width, height;
  int bits;
  int per_pixel;  // samples per pixel in one plane's rows: all of them, or 1 when planes are separate
  int planes;     // planes to read: 1 when contiguous, else those of the colour samples
  bool invert;    // MINISWHITE: the lowest value is white
  uint32_t scale; // 1- to 4-bit grey to 0..255
  std::vector<uint16_t> palette;  // RGB per index, 0..65535
};

// Some writers store 8-bit colour maps (all entries below 256) where TIFF asks for 16 bits; libtiff's
// own RGBA conversion takes such a map as 8-bit, and so does this.
std::vector<uint16_t> palette_of(const Reader& r, int bits) {
  uint16_t *red = nullptr, *green = nullptr, *blue = nullptr;
  if (TIFFGetField(r.tif(), TIFFTAG_COLORMAP, &red, &green, &blue) != 1 || !red || !green || !blue) {
    r.fail("a palette image without a colour map");
  }
  const size_t entries = size_t{1} << bits;  // libtiff reads exactly this many
  std::vector<uint16_t> out(3 * entries);
  bool eight_bit = true;
  for (size_t i = 0; i < entries; ++i) {
    out[3 * i] = red[i];
    out[3 * i + 1] = green[i];
    out[3 * i + 2] = blue[i];
    eight_bit = eight_bit && red[i] < 256 && green[i] < 256 && blue[i] < 256;
  }
  if (eight_bit) {
    for (uint16_t& v : out) v = static_cast<uint16_t>(v * 257);
  }
  return out;
}

Plan plan_for(const Reader& r, const Layout& l, Kind kind) {
  Plan p{};
  p.kind = kind;
  p.width = l.width;
  p.height = l.height;
  p.bits = l.bits;
  const bool separate = l.planar == PLANARCONFIG_SEPARATE && l.samples > 1;
  p.per_pixel = separate ? 1 : l.samples;
  p.planes = separate && kind == Kind::Rgb ? 3 : 1;
  p.invert = l.photometric == PHOTOMETRIC_MINISWHITE;
  p.scale = l.bits < 8 ? 255 / ((1u << l.bits) - 1) : 1;
  if (kind == Kind::Palette) p.palette = palette_of(r, l.bits);
  return p;
}

uint32_t sample_at(const uint8_t* row, int64_t k, int bits) {
  if (bits == 8) return row[k];
  if (bits == 16) {
    uint16_t v;  // libtiff has already put it in the machine's byte order
    std::memcpy(&v, row + 2 * k, 2);
    return v;
  }
  const int64_t bit = k * bits;  // packed from the high bit down
  return (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1u << bits) - 1);
}

// Pixels x0 .. x0 + n - 1 of row y of one plane into out (height * width * 3).
template <typename T>
void put_row(const Plan& p, int plane, int64_t y, int64_t x0, int64_t n, const uint8_t* row, std::vector<T>& out) {
  T* dst = out.data() + (y * p.width + x0) * 3;
  const uint32_t max = (1u << p.bits) - 1;
  for (int64_t i = 0; i < n; ++i, dst += 3) {
    const int64_t k = i * p.per_pixel;
    if (p.kind == Kind::Grey) {
      const uint32_t v = sample_at(row, k, p.bits);
      dst[0] = dst[1] = dst[2] = static_cast<T>((p.invert ? max - v : v) * p.scale);
    } else if (p.kind == Kind::Palette) {
      const uint16_t* c = p.palette.data() + 3 * sample_at(row, k, p.bits);
      for (int ch = 0; ch < 3; ++ch) dst[ch] = static_cast<T>(c[ch]);
    } else if (p.per_pixel == 1) {
      dst[plane] = static_cast<T>(sample_at(row, k, p.bits));
    } else {
      for (int ch = 0; ch < 3; ++ch) dst[ch] = static_cast<T>(sample_at(row, k + ch, p.bits));
    }
  }
}

uint64_t row_bytes(const Plan& p, uint64_t pixels) { return (pixels * p.per_pixel * p.bits + 7) / 8; }

// How the file's rows are cut into blocks (strips or tiles), checked against libtiff's own sizes.
struct Blocks {
  bool tiled;
  uint32_t tile_w, tile_h;  // tiles only
  uint64_t row;             // bytes of one decoded row of a strip or tile
  uint64_t stored;          // bytes of every plane decoded: what the file must hold once expanded
};

Blocks blocks_of(const Reader& r, const Plan& p, const Layout& l) {
  Blocks b{TIFFIsTiled(r.tif()) != 0, 0, 0, 0, 0};
  const uint64_t planes = p.per_pixel == 1 ? l.samples : 1;
  if (!b.tiled) {
    b.row = row_bytes(p, p.width);
    if (TIFFScanlineSize64(r.tif()) != b.row) r.fail(cat_str("a row of ", TIFFScanlineSize64(r.tif()), " bytes"));
    b.stored = b.row * l.height * planes;
    return b;
  }
  TIFFGetField(r.tif(), TIFFTAG_TILEWIDTH, &b.tile_w);
  TIFFGetField(r.tif(), TIFFTAG_TILELENGTH, &b.tile_h);
  if (b.tile_w == 0 || b.tile_h == 0) r.fail(cat_str("tiles of ", b.tile_w, "x", b.tile_h, " pixels"));
  b.row = row_bytes(p, b.tile_w);
  if (b.row > kMaxTileBytes / b.tile_h) {
    r.unsupported(cat_str("tiles of ", b.tile_w, "x", b.tile_h, " pixels, over 256 MiB"));
  }
  const uint64_t tile = b.row * b.tile_h;
  if (TIFFTileSize64(r.tif()) != tile) r.fail(cat_str("a tile of ", TIFFTileSize64(r.tif()), " bytes"));
  // Under 2^64: a tile is at most 2^28 bytes and the image at most 2^32 pixels.
  const uint64_t across = (l.width + uint64_t{b.tile_w} - 1) / b.tile_w;
  const uint64_t down = (l.height + uint64_t{b.tile_h} - 1) / b.tile_h;
  b.stored = tile * across * down * planes;
  return b;
}

// The most one compressed byte can expand to, for the codecs where that is bounded; 0 elsewhere.
uint64_t max_expansion(uint16_t compression) {
  switch (compression) {
    case COMPRESSION_NONE: return 1;
    case COMPRESSION_PACKBITS: return 64;  // a two-byte run gives at most 128 bytes
    case COMPRESSION_LZW: return 4096;     // each code of at least 9 bits, a string under 4096 bytes
    case COMPRESSION_DEFLATE:
    case COMPRESSION_ADOBE_DEFLATE: return 1032;  // deflate's own limit
    default: return 0;
  }
}

// As for PNG: a header claiming more pixels than the file's bytes can hold is refused before the
// pixels are allocated (a few hundred bytes claiming 16384x16384 would otherwise cost gigabytes).
void check_claim(const Reader& r, const Blocks& b) {
  uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(r.tif(), TIFFTAG_COMPRESSION, &compression);
  const uint64_t ratio = max_expansion(compression);
  if (ratio == 0) return;
  const uint64_t need = (b.stored + ratio - 1) / ratio, size = r.size();
  const uint32_t blocks = b.tiled ? TIFFNumberOfTiles(r.tif()) : TIFFNumberOfStrips(r.tif());
  uint64_t held = 0;
  for (uint32_t i = 0; i < blocks && held < need; ++i) {
    const uint64_t at = TIFFGetStrileOffset(r.tif(), i);
    if (at < size) held += std::min<uint64_t>(TIFFGetStrileByteCount(r.tif(), i), size - at);
  }
  r.check();
  if (held < need) r.fail("the header claims more pixels than the file holds");
}

template <typename T>
void read_strips(const Reader& r, const Plan& p, const Blocks& b, std::vector<T>& out) {
  std::vector<uint8_t> row(b.row);
  for (int plane = 0; plane < p.planes; ++plane) {
    for (int64_t y = 0; y < p.height; ++y) {
      if (TIFFReadScanline(r.tif(), row.data(), static_cast<uint32_t>(y), static_cast<uint16_t>(plane)) != 1) {
        r.fail(cat_str("cannot read row ", y));
      }
      put_row(p, plane, y, 0, p.width, row.data(), out);
    }
  }
}

template <typename T>
void read_tiles(const Reader& r, const Plan& p, const Blocks& b, std::vector<T>& out) {
  const uint64_t tile_bytes = b.row * b.tile_h;
  std::vector<uint8_t> tile(tile_bytes);
  for (int plane = 0; plane < p.planes; ++plane) {
    for (int64_t y0 = 0; y0 < p.height; y0 += b.tile_h) {
      for (int64_t x0 = 0; x0 < p.width; x0 += b.tile_w) {
        const tmsize_t got = TIFFReadTile(r.tif(), tile.data(), static_cast<uint32_t>(x0), static_cast<uint32_t>(y0),
                                          0, static_cast<uint16_t>(plane));
        if (got != static_cast<tmsize_t>(tile_bytes)) r.fail(cat_str("cannot read the tile at ", x0, ",", y0));
        const int64_t rows = std::min<int64_t>(b.tile_h, p.height - y0);
        const int64_t cols = std::min<int64_t>(b.tile_w, p.width - x0);
        for (int64_t j = 0; j < rows; ++j) put_row(p, plane, y0 + j, x0, cols, tile.data() + j * b.row, out);
      }
    }
  }
}

template <typename T>
void read_samples(const Reader& r, const Plan& p, const Blocks& b, std::vector<T>& out) {
  if (b.tiled) {
    read_tiles(r, p, b, out);
  } else {
    read_strips(r, p, b, out);
  }
}

// The stored (not yet upright) image, read sample by sample.
Image read_direct(const Reader& r, const Layout& l, Kind kind) {
  const Plan p = plan_for(r, l, kind);
  const Blocks b = blocks_of(r, p, l);
  check_claim(r, b);
  const size_t n = static_cast<size_t>(p.width * p.height * 3);
  if (kind == Kind::Palette || l.bits == 16) {
    std::vector<uint16_t> out(n);
    read_samples(r, p, b, out);
    return image_from_rgb16(p.width, p.height, std::move(out));
  }
  Image img;
  img.width = p.width;
  img.height = p.height;
  img.rgb.resize(n);
  read_samples(r, p, b, img.rgb);
  return img;
}

// The stored image through libtiff's RGBA conversion (YCbCr, CMYK, CIELab). Asking for the file's own
// orientation keeps the stored order: libtiff only flips rows and columns, it cannot transpose, so
// orientations 5-8 are left to apply_orientation like every other path.
Image read_rgba(const Reader& r, const Layout& l) {
  uint16_t stored_orientation = ORIENTATION_TOPLEFT;
  TIFFGetFieldDefaulted(r.tif(), TIFFTAG_ORIENTATION, &stored_orientation);
  std::vector<uint32_t> raster(size_t{l.width} * l.height);
  // stop = 1: with 0, libtiff leaves an unreadable strip blank and reports success.
  if (TIFFReadRGBAImageOriented(r.tif(), l.width, l.height, raster.data(), stored_orientation, 1) != 1) {
    r.fail("cannot convert to RGB");
  }
  Image img;
  img.width = l.width;
  img.height = l.height;
  img.rgb.resize(raster.size() * 3);
  for (size_t i = 0; i < raster.size(); ++i) {
    img.rgb[3 * i] = static_cast<uint8_t>(TIFFGetR(raster[i]));
    img.rgb[3 * i + 1] = static_cast<uint8_t>(TIFFGetG(raster[i]));
    img.rgb[3 * i + 2] = static_cast<uint8_t>(TIFFGetB(raster[i]));
  }
  return img;
}

}  // namespace

ImageHeader read_tiff_header(std::string_view bytes, const std::string& name, int64_t max_pixels) {
  const Reader r(bytes, name);
  const Layout l = read_layout(r, max_pixels);
  classify(r, l);
  return {"tiff", l.upright_width(), l.upright_height(), l.orientation};
}

Image decode_tiff(std::string_view bytes, const std::string& name, int64_t max_pixels) {
  const Reader r(bytes, name);
  const Layout l = read_layout(r, max_pixels);
  const Kind kind = classify(r, l);
  Image stored = kind == Kind::LibtiffRgba ? read_rgba(r, l) : read_direct(r, l, kind);
  r.check();
  if (l.orientation == 1) return stored;
  return apply_orientation(stored, l.orientation);
}

}  // namespace thaw
