// `thaw pack DATA --input-size H --out PACK`: decode a folder of class folders or a CSV manifest
// once into memory-mappable shards of reduced uint8 images (io/pack_format.h), which `--data PACK`
// then reads instead of the JPEGs and PNGs.
#include <array>
#include <iomanip>
#include <iostream>
#include <memory>

#include "cli/flag_range.h"
#include "cli/commands.h"
#include "core/error.h"
#include "io/left_out_files.h"
#include "io/datasets.h"
#include "io/image_decode.h"
#include "io/pack_writer.h"

namespace thaw::cli {

namespace {

struct PackArgs {
  std::string data, out;
  int64_t input_size = 299;
  int64_t side = 0;
  int64_t shard_mb = 1024;
  int workers = 0;
  std::string on_bad_image = "fail";
  int64_t max_image_pixels = kMaxImagePixels;
  std::string window;
  int64_t dicom_frame = 0;
  bool overwrite = false;
};

void run_pack(const PackArgs& a) {
  if (!is_image_data(a.data) || is_pack_dir(a.data)) {
    fail_user("DATA: expected a folder of class folders or a .csv manifest of images, got '", a.data, "'");
  }
  if (a.workers < 0) fail_user("--workers: expected 0 (one per core) or a positive count, got ", a.workers);
  if (a.shard_mb < 1) fail_user("--shard-mb: expected at least 1, got ", a.shard_mb);
  PackOptions o;
  o.input_size = a.input_size;
  o.side = a.side;
  o.shard_bytes = a.shard_mb << 20;
  o.workers = a.workers;
  o.on_bad_image = parse_bad_image_policy(a.on_bad_image);
  o.max_image_pixels = a.max_image_pixels;
  o.pixel_mapping = pixel_mapping_of(a.window, a.dicom_frame);
  o.overwrite = a.overwrite;
  DataOptions d;
  d.on_bad_image = o.on_bad_image;
  const std::string source = std::filesystem::absolute(a.data).string();
  warn_left_out_files(source, std::cerr);
  const PackManifest pm = write_pack(open_image_manifest(source, d), a.out, o, &std::cerr);
  std::array<int64_t, 3> per_split{};
  int64_t bytes = 0;
  for (const PackSample& s : pm.samples) ++per_split[static_cast<size_t>(s.split)];
  for (const PackShard& s : pm.shards) bytes += s.bytes;
  std::cout << "packed " << pm.samples.size() << " images (" << pm.class_names.size() << " classes; train "
            << per_split[0] << ", val " << per_split[1] << ", test " << per_split[2] << ") into " << a.out << ": "
            << pm.shards.size() << (pm.shards.size() == 1 ? " shard, " : " shards, ") << std::fixed
            << std::setprecision(1) << static_cast<double>(bytes) / (1 << 20) << " MiB, shorter side at most "
            << pm.side << " px";
  if (!pm.skipped.empty()) std::cout << "; " << pm.skipped.size() << " unreadable images skipped (listed in pack.json)";
  std::cout << "\n";
}

}  // namespace

void add_pack(CLI::App& app) {
  auto a = std::make_shared<PackArgs>();
  CLI::App* sub = app.add_subcommand(
      "pack", "Decode image data once into memory-mappable shards that --data PACK reads much faster (docs/data.md)");
  sub->add_option("DATA", a->data, "A folder of class folders or a CSV manifest")->required();
  sub->add_option("--input-size", a->input_size, "The input size the pack is for")->capture_default_str()->check(in_range(input_size_range()));
  sub->add_option("--out", a->out, "The pack folder")->required();
  sub->add_option("--side", a->side, "Shorter side of the stored images (default: input size / 0.875)")->check(in_range(whole(0, kMaxSide, "0: input size / 0.875")));
  sub->add_option("--shard-mb", a->shard_mb, "Largest shard file, MiB")->capture_default_str()->check(in_range(whole(1, 1 << 20)));
  sub->add_option("--workers", a->workers, "Decoding threads (0: one per core)")->capture_default_str()->check(in_range(whole(0, kMaxThreads, "0: one per core")));
  add_max_image_pixels_flag(sub, a->max_image_pixels);
  add_pixel_mapping_flags(sub, a->window, a->dicom_frame);
  sub->add_option("--on-bad-image", a->on_bad_image, "An unreadable image: fail, or skip (listed in pack.json)")
      ->capture_default_str();
  sub->add_flag("--overwrite", a->overwrite, "Replace a pack already in --out");
  sub->callback([a] { run_pack(*a); });
}

}  // namespace thaw::cli
