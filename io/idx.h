#pragma once
// IDX files (the MNIST / Fashion-MNIST format): a big-endian magic 0x000008NN (unsigned bytes, NN
// dimensions), NN big-endian 32-bit sizes, then the data. Images are 0x00000803 (count, rows,
// cols), labels 0x00000801 (count). Files may be gzip-compressed (.gz) or plain; both are read
// through zlib, which passes plain files through unchanged. Every problem (unreadable, corrupt
// gzip, bad magic, truncated or over-long data, image/label count mismatch) is a UserError naming
// the file.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace thaw {

struct IdxImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  // count x rows x cols, row-major

  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

IdxImages read_idx_images(const std::filesystem::path& path);
std::vector<uint8_t> read_idx_labels(const std::filesystem::path& path);

struct IdxLabelledImages {
  IdxImages images;
  std::vector<uint8_t> labels;  // one per image
};

// Reads both files and checks that they hold the same number of samples.
IdxLabelledImages read_idx_labelled(const std::filesystem::path& images, const std::filesystem::path& labels);

// The whole decompressed content of a gzip or plain file (exposed for tests and manifests).
std::vector<uint8_t> read_maybe_gzip(const std::filesystem::path& path);

}  // namespace thaw
