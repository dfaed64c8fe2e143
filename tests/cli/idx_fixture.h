#pragma once
// A tiny MNIST-style IDX dataset written by the test itself (no installed data needed), and the
// small file helpers the checkpoint and resume tests share.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {

inline void put_be32(std::ofstream& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.write(b, 4);
}

// Uncompressed IDX files: `train` training and `test` test images of 28x28 with fixed
// pseudo-random pixels, labels cycling through `classes`.
inline void write_idx_folder(const std::filesystem::path& dir, uint32_t train = 24, uint32_t test = 8,
                             uint32_t classes = 3) {
  std::filesystem::create_directories(dir);
  for (const auto& [prefix, count] : {std::pair<std::string, uint32_t>{"train", train}, {"t10k", test}}) {
    std::ofstream img(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
    put_be32(img, 0x803);
    put_be32(img, count);
    put_be32(img, 28);
    put_be32(img, 28);
    uint32_t x = 777 + count;
    for (uint32_t i = 0; i < count * 28 * 28; ++i) {
      x = x * 1664525u + 1013904223u;
      img.put(static_cast<char>(x >> 24));
    }
    std::ofstream lab(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
    put_be32(lab, 0x801);
    put_be32(lab, count);
    for (uint32_t i = 0; i < count; ++i) lab.put(static_cast<char>(i % classes));
  }
}

inline std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& p) {
  std::istringstream in(read_text(p));
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}

inline nlohmann::json read_json(const std::filesystem::path& p) { return nlohmann::json::parse(read_text(p)); }

// The names of the checkpoint files in a run folder, sorted.
inline std::vector<std::string> checkpoint_names(const std::filesystem::path& run) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(run)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("checkpoint-", 0) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace thaw::testing
