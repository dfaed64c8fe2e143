#include "io/pack_writer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/sha256.h"
#include "io/atomic_file.h"
#include "io/augment.h"
#include "io/file_bytes.h"
#include "io/image_decode.h"
#include "io/resample.h"

namespace thaw {

namespace fs = std::filesystem;

Image pack_image(const Image& decoded, int64_t side) {
  const int64_t w = decoded.width, h = decoded.height;
  if (std::min(w, h) <= side) return decoded;
  int64_t rw = side, rh = side;
  if (w < h) {
    rh = side * h / w;
  } else if (h < w) {
    rw = side * w / h;
  }
  std::vector<float> chw(static_cast<size_t>(3 * rw * rh));
  resample_rgb(decoded, Box{0, 0, static_cast<double>(w), static_cast<double>(h)}, rw, rh, chw.data());
  Image out;
  out.width = rw;
  out.height = rh;
  out.rgb.resize(static_cast<size_t>(3 * rw * rh));
  const int64_t plane = rw * rh;
  for (int64_t p = 0; p < plane; ++p) {
    for (int64_t c = 0; c < 3; ++c) {
      const float v = std::nearbyint(chw[static_cast<size_t>(c * plane + p)]);
      out.rgb[static_cast<size_t>(3 * p + c)] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
    }
  }
  return out;
}

namespace {

struct Packed {
  Image img;
  std::string sha256, source_sha256;
  std::exception_ptr error;
};

// Reads, hashes, decodes and reduces records [first, last) on `workers` threads, each into its slot.
std::vector<Packed> pack_chunk(const ImageManifest& m, size_t first, size_t last, int64_t side, int64_t max_pixels,
                               const PixelMapping& mapping, int workers) {
  std::vector<Packed> out(last - first);
  std::atomic<size_t> next{first};
  auto work = [&] {
    for (size_t i = next++; i < last; i = next++) {
      Packed& p = out[i - first];
      try {
        const std::string path = m.records[i].path.string();
        const std::string bytes = read_file_bytes(m.records[i].path);
        p.source_sha256 = sha256_hex(bytes);
        p.img = pack_image(decode_image(bytes, path, side, max_pixels, mapping), side);
        p.sha256 = sha256_hex({reinterpret_cast<const char*>(p.img.rgb.data()), p.img.rgb.size()});
      } catch (...) {
        p.error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < workers && static_cast<size_t>(t) < last - first; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return out;
}

// Names the pack's shards after its settings and sources, so that a different pack written into
// the same folder cannot replace a shard the old pack.json still names.
std::string pack_id(const ImageManifest& m, int64_t input_size, int64_t side, int64_t shard_bytes,
                    const std::string& mapping) {
  Sha256 h;
  h.update(cat_str(kPackFormat, " ", kPackVersion, " ", input_size, " ", side, " ", shard_bytes, "\n"));
  h.update(cat_str("pixel_mapping\t", mapping, "\n"));
  for (const std::string& c : m.class_names) h.update(cat_str("class\t", c, "\n"));
  for (const ImageRecord& r : m.records) {
    std::error_code ec;
    const auto size = fs::file_size(r.path, ec);
    const auto mtime = fs::last_write_time(r.path, ec).time_since_epoch().count();
    h.update(cat_str(r.path.string(), "\t", r.label, "\t", split_name(r.split), "\t", r.group, "\t", size, "\t", mtime,
                     "\n"));
  }
  return h.hex_digest().substr(0, 12);
}

std::string shard_name(size_t index, const std::string& id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "shard-%05zu-%s.bin", index, id.c_str());
  return buf;
}

int64_t aligned(int64_t n) { return (n + kPackAlign - 1) / kPackAlign * kPackAlign; }

// The options checked and the folder made; returns the stored short side.
int64_t check_pack_options(const PackOptions& o, const fs::path& dir) {
  if (o.input_size < 1) fail_user("--input-size: expected a positive size, got ", o.input_size);
  const int64_t side = o.side > 0 ? o.side : eval_resize_short_side(o.input_size);
  if (side < o.input_size) fail_user("--side: ", side, " is smaller than --input-size ", o.input_size);
  if (o.shard_bytes < kShardHeaderBytes + kPackAlign) fail_user("--shard-mb: too small");
  if (is_pack_dir(dir) && !o.overwrite) {
    fail_user("--out: ", dir.string(), " already holds a pack; choose another folder or pass --overwrite");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_user("--out: cannot create ", dir.string(), ": ", ec.message());
  return side;
}

void write_shard_header(std::ostream& os) {
  char header[kShardHeaderBytes] = {};
  std::memcpy(header, kShardMagic, sizeof kShardMagic);
  const uint32_t version = kPackVersion;
  for (int b = 0; b < 4; ++b) header[8 + b] = static_cast<char>((version >> (8 * b)) & 0xff);
  os.write(header, sizeof header);
}

// An image that could not be read: the pack fails, or it is listed as skipped (--on-bad-image).
void skip_or_fail(const std::exception_ptr& error, BadImagePolicy policy, PackManifest& pm, std::ostream* progress) {
  std::string message;
  try {
    std::rethrow_exception(error);
  } catch (const UserError& e) {
    message = e.what();
  }  // anything else propagates: not a bad file
  if (policy == BadImagePolicy::Fail) {
    fail_user(message, " (--on-bad-image skip leaves unreadable images out of the pack)");
  }
  pm.skipped.push_back(message);
  if (progress) *progress << "thaw: skipped " << message << "\n";
}

PackSample sample_of(const ImageRecord& r, Packed& p, int64_t key, int32_t shard, int64_t offset) {
  PackSample s;
  s.path = r.path.string();
  s.label = r.label;
  s.split = r.split;
  s.group = r.group;
  s.key = key;
  s.shard = shard;
  s.offset = offset;
  s.width = p.img.width;
  s.height = p.img.height;
  s.sha256 = std::move(p.sha256);
  s.source_sha256 = std::move(p.source_sha256);
  return s;
}

}  // namespace

PackManifest write_pack(const ImageManifest& m, const fs::path& dir, const PackOptions& o, std::ostream* progress) {
  const int64_t side = check_pack_options(o, dir);
  std::error_code ec;
  const int workers = o.workers > 0 ? o.workers : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  PackManifest pm;
  pm.input_size = o.input_size;
  pm.side = side;
  pm.source = m.source;
  pm.class_names = m.class_names;
  pm.has_split_column = m.has_split_column;
  pm.has_group_column = m.has_group_column;
  pm.pixel_mapping = describe_pixel_mapping(o.pixel_mapping);
  const std::string id = pack_id(m, o.input_size, side, o.shard_bytes, pm.pixel_mapping);

  // Records are decoded a chunk at a time, in parallel, and written in manifest order.
  const size_t chunk = static_cast<size_t>(std::max(16, 8 * workers));
  std::vector<Packed> done;
  size_t done_first = 0, next = 0;
  const size_t n = m.records.size();
  auto take = [&](size_t i) -> Packed& {
    if (i >= done_first + done.size()) {
      done_first = i;
      done = pack_chunk(m, i, std::min(n, i + chunk), side, o.max_image_pixels, o.pixel_mapping, workers);
    }
    return done[i - done_first];
  };
  while (next < n) {
    const size_t shard = pm.shards.size();
    PackShard sh{shard_name(shard, id), 0};
    write_file_atomic(dir / sh.file, [&](std::ostream& os) {
      write_shard_header(os);
      int64_t at = kShardHeaderBytes;
      for (; next < n; ++next) {
        Packed& p = take(next);
        if (p.error) {
          skip_or_fail(p.error, o.on_bad_image, pm, progress);
          continue;
        }
        const int64_t bytes = static_cast<int64_t>(p.img.rgb.size());
        if (at > kShardHeaderBytes && aligned(at) + bytes > o.shard_bytes) break;  // next shard
        const int64_t start = aligned(at);
        static constexpr char kZeros[kPackAlign] = {};
        os.write(kZeros, start - at);
        os.write(reinterpret_cast<const char*>(p.img.rgb.data()), bytes);
        at = start + bytes;
        pm.samples.push_back(sample_of(m.records[next], p, static_cast<int64_t>(next), static_cast<int32_t>(shard), start));
        p.img = Image{};  // its bytes are written: free them before the chunk ends
        if (progress && pm.samples.size() % 1000 == 0) *progress << "thaw: packed " << pm.samples.size() << " images\n";
      }
      sh.bytes = at;
    });
    pm.shards.push_back(sh);
  }
  if (pm.samples.empty()) fail_user(m.source, ": no readable images to pack");
  // A shard left with nothing in it (only skipped files after the last break) is dropped.
  if (pm.shards.back().bytes == kShardHeaderBytes) {
    fs::remove(dir / pm.shards.back().file, ec);
    pm.shards.pop_back();
  }
  write_file_atomic(dir / kPackManifestName, pack_manifest_json(pm));
  // Shards of packs written here before, which no manifest names any more.
  std::set<std::string> keep;
  for (const PackShard& s : pm.shards) keep.insert(s.file);
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("shard-", 0) == 0 && e.path().extension() == ".bin" && !keep.count(f)) fs::remove(e.path(), ec);
  }
  return pm;
}

}  // namespace thaw
