#pragma once
// Test images made at test time by Debian's Python (PIL and numpy): JPEGs in several flavours, PNGs
// of every colour type and bit depth written byte by byte (so the expected pixels are known exactly),
// and for each image the pixels a correct decoder must produce, as raw RGB bytes.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "tests/io/io_test_support.h"

namespace thaw::testing {

// Writes <name>.<ext> and <name>.rgb (expected RGB, upright; for 16-bit PNGs also <name>.rgb16, the
// full-precision samples, little-endian) and a line "name ext width height" in
// cases.txt for every case.
inline constexpr const char* kImageFixtureScript = R"PY(
import struct, zlib
import numpy as np
from PIL import Image, ImageOps

rng = np.random.default_rng(7)
cases = open("cases.txt", "w")

def record(name, ext, rgb, rgb16=None):
    if rgb16 is not None:  # full precision, kept beside the rounded 8 bits
        np.ascontiguousarray(rgb16, dtype="<u2").tofile(name + ".rgb16")
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    open(name + ".rgb", "wb").write(rgb.tobytes())
    cases.write("%s %s %d %d\n" % (name, ext, rgb.shape[1], rgb.shape[0]))

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

def pack_rows(samples, depth):
    # samples: h x (w * channels) integers; rows packed MSB first (sub-byte) or big-endian (16 bit)
    rows = []
    for r in samples:
        if depth == 16:
            rows.append(np.asarray(r, dtype=">u2").tobytes())
        elif depth == 8:
            rows.append(np.asarray(r, dtype=np.uint8).tobytes())
        else:
            per = 8 // depth
            out = bytearray((len(r) + per - 1) // per)
            for i, v in enumerate(r):
                out[i // per] |= int(v) << (8 - depth * (i % per + 1))
            rows.append(bytes(out))
    return rows

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

def write_png(path, w, h, ctype, depth, pixels, plte=None, trns=None, interlace=False):
    # pixels: h x w x channels integer array
    ch = pixels.shape[2]
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            raw += b"".join(b"\x00" + r for r in pack_rows(sub.reshape(sub.shape[0], -1), depth))
    else:
        raw = b"".join(b"\x00" + r for r in pack_rows(pixels.reshape(h, w * ch), depth))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if plte is not None:
        out += chunk(b"PLTE", plte.astype(np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(path, "wb").write(out)

W, H = 13, 9  # odd sizes: sub-byte rows end mid-byte, Adam7 passes are uneven

for depth in (1, 2, 4, 8, 16):
    g = rng.integers(0, 2 ** depth, size=(H, W, 1))
    name = "png_grey%d" % depth
    write_png(name + ".png", W, H, 0, depth, g)
    scale = {1: 255, 2: 85, 4: 17, 8: 1}
    v = (2 * g + 257) // 514 if depth == 16 else g * scale[depth]  # 16 bits: round(g / 257)
    record(name, "png", np.repeat(v, 3, axis=2), np.repeat(g, 3, axis=2) if depth == 16 else None)
for depth in (8, 16):
    for ctype, ch, label in ((4, 2, "greyalpha"), (2, 3, "rgb"), (6, 4, "rgba")):
        px = rng.integers(0, 2 ** depth, size=(H, W, ch))
        name = "png_%s%d" % (label, depth)
        write_png(name + ".png", W, H, ctype, depth, px)
        v = (2 * px + 257) // 514 if depth == 16 else px
        pick = lambda a: np.repeat(a[:, :, :1], 3, axis=2) if ch == 2 else a[:, :, :3]
        record(name, "png", pick(v), pick(px) if depth == 16 else None)
for depth in (4, 8):
    n = 2 ** depth
    plte = rng.integers(0, 256, size=(n, 3))
    idx = rng.integers(0, n, size=(H, W, 1))
    name = "png_palette%d" % depth
    write_png(name + ".png", W, H, 3, depth, idx, plte=plte, trns=bytes(range(0, n, 1))[:n])
    record(name, "png", plte[idx[:, :, 0]])
px = rng.integers(0, 256, size=(H, W, 3))
write_png("png_interlaced.png", W, H, 2, 8, px, interlace=True)
record("png_interlaced", "png", px)

# JPEGs: smooth content (JPEG's kind), expected pixels from PIL on the same libjpeg-turbo.
yy, xx = np.mgrid[0:48, 0:64]
upright = np.stack([xx * 4, yy * 5, (xx + yy) * 2 + 20], axis=2).clip(0, 255).astype(np.uint8)
upright[4:12, 6:20] = (250, 30, 30)  # an asymmetric mark: orientation mistakes show
base = Image.fromarray(upright)

def jpeg_case(name, img, **kw):
    img.save(name + ".jpg", **kw)
    dec = ImageOps.exif_transpose(Image.open(name + ".jpg")).convert("RGB")
    record(name, "jpg", np.asarray(dec))

jpeg_case("jpeg_420", base, quality=90)
jpeg_case("jpeg_444", base, quality=90, subsampling=0)
jpeg_case("jpeg_progressive", base, quality=90, progressive=True)
jpeg_case("jpeg_grey", base.convert("L"), quality=90)
inverse = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
           6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270}
for k in range(1, 9):
    stored = base if k == 1 else base.transpose(inverse[k])
    exif = Image.Exif()
    exif[0x0112] = k
    jpeg_case("jpeg_exif%d" % k, stored, quality=95, subsampling=0, exif=exif.tobytes())
np.asarray(upright).tofile("upright.rgb")
Image.fromarray(upright).convert("CMYK").save("cmyk.jpg", quality=90)
# A larger photo-like image (smooth shading and soft texture) for DCT scaling: 512 x 384.
yy, xx = np.mgrid[0:384, 0:512] / 64.0
noise = rng.normal(0, 1, size=(48, 64, 3))
texture = np.asarray(Image.fromarray(((noise * 40) + 128).clip(0, 255).astype(np.uint8)).resize((512, 384), Image.BICUBIC))
shade = np.stack([np.sin(xx) * 50 + 120, np.cos(yy * 0.7) * 40 + 110, np.sin(xx * 0.5 + yy * 0.3) * 45 + 100], axis=2)
photo = (shade + (texture.astype(float) - 128) * 0.6).clip(0, 255).astype(np.uint8)
Image.fromarray(photo).save("photo.jpg", quality=95, subsampling=0)
cases.close()
)PY";

struct ImageCase {
  std::string name, ext;
  int64_t width = 0, height = 0;
};

inline std::vector<ImageCase> read_image_cases(const ScratchDir& dir) {
  std::vector<ImageCase> cases;
  std::ifstream in(dir / "cases.txt");
  ImageCase c;
  while (in >> c.name >> c.ext >> c.width >> c.height) cases.push_back(c);
  return cases;
}

inline std::vector<uint8_t> read_raw(const std::filesystem::path& p) {
  const std::string s = slurp(p);
  return {s.begin(), s.end()};
}

}  // namespace thaw::testing
