#pragma once
// What each fuzz target feeds its input to, shared by the libFuzzer targets (fuzz/*_fuzz.cc, built
// by scripts/fuzz) and by the regression test that replays the inputs they found
// (tests/io/fuzz_regression_test.cc). For any bytes at all, each must return normally or throw a
// UserError (a bad file is the user's problem, said in one line); another exception, a crash, a
// hang or a sanitizer report is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "io/csv.h"
#include "io/exif.h"
#include "io/idx.h"
#include "io/image_decode.h"
#include "io/npy.h"
#include "io/pack_format.h"
#include "io/safetensors.h"

namespace thaw::fuzz {

inline void safetensors(std::string_view data) {
  try {
    const SafeTensorsFile f = SafeTensorsFile::parse(std::string(data), "fuzz.safetensors");
    for (const std::string& name : f.names()) {
      const SafeTensorInfo& info = f.info(name);
      try {
        if (info.dtype == DType::I64 || info.dtype == DType::I32 || info.dtype == DType::U8) {
          (void)f.to_int64(name);
        } else {
          (void)f.tensor_float(name);
        }
      } catch (const UserError&) {
      }
    }
  } catch (const UserError&) {
  }
}

inline void csv(std::string_view data) {
  try {
    const CsvTable t = parse_csv(data, "fuzz.csv");
    for (const std::vector<std::string>& row : t.rows) {
      for (const std::string& field : row) {
        // What a writer quotes must parse back to the same field (a second column, since a line
        // holding one empty field is a blank line, which the parser skips).
        const std::string text = "a,b\n" + csv_field(field) + ",x\n";
        const CsvTable back = parse_csv(text, "roundtrip.csv");
        if (back.rows.size() != 1 || back.rows[0][0] != field) fail_internal("csv_field does not round-trip");
      }
    }
  } catch (const UserError&) {
  }
}

// Both decoders behind the format sniffing, at full size and with DCT scaling.
inline void image(std::string_view data) {
  try {
    (void)read_image_header(data, "fuzz.img");
  } catch (const UserError&) {
  }
  for (int64_t min_side : {int64_t{0}, int64_t{9}}) {
    try {
      const Image img = decode_image(data, "fuzz.img", min_side);
      if (static_cast<int64_t>(img.rgb.size()) != img.width * img.height * 3) fail_internal("image size mismatch");
      if (img.high_precision() && img.rgb16.size() != img.rgb.size()) fail_internal("rgb16 size mismatch");
    } catch (const UserError&) {
    }
  }
  (void)exif_orientation(reinterpret_cast<const uint8_t*>(data.data()), data.size());
}

inline void npy(std::string_view data) {
  try {
    (void)parse_npy(std::string(data), "fuzz.npy");
  } catch (const UserError&) {
  }
}

// An EXIF APP1 payload on its own ("Exif\0\0" and a TIFF block): any bytes give 1..8.
inline void exif(std::string_view data) {
  const int o = exif_orientation(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (o < 1 || o > 8) fail_internal("exif orientation out of 1..8");
}

// The IDX readers take paths (zlib reads gzip and plain files alike), so the bytes are put in an
// in-memory file and read through /proc/self/fd, as both images and labels.
inline void idx(std::string_view data) {
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } file{::memfd_create("fuzz.idx", 0)};
  if (file.fd < 0) fail_internal("memfd_create failed");
  for (size_t at = 0; at < data.size();) {
    const ssize_t n = ::write(file.fd, data.data() + at, data.size() - at);
    if (n <= 0) fail_internal("writing the memfd failed");
    at += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(file.fd);
  try {
    const IdxImages im = read_idx_images(path);
    uint64_t need = 0;
    const bool wraps = __builtin_mul_overflow(static_cast<uint64_t>(im.count) * static_cast<uint64_t>(im.rows),
                                              static_cast<uint64_t>(im.cols), &need);
    if (im.rows < 1 || im.cols < 1 || wraps || im.pixels.size() != need) fail_internal("idx size mismatch");
  } catch (const UserError&) {
  }
  try {
    (void)read_idx_labels(path);
  } catch (const UserError&) {
  }
}

// pack.json: what parses must write back to text that parses to the same manifest.
inline void pack(std::string_view data) {
  try {
    const PackManifest m = parse_pack_manifest(data, "fuzz/pack.json");
    const std::string text = pack_manifest_json(m);
    if (pack_manifest_json(parse_pack_manifest(text, "roundtrip/pack.json")) != text) {
      fail_internal("pack.json does not round-trip");
    }
  } catch (const UserError&) {
  }
}

}  // namespace thaw::fuzz
