#pragma once
// Every numeric flag's stated range. CLI11's own Range compares with < and >, which lets NaN
// through, so this validator parses the value itself: it wants a finite number (a whole one for
// integer flags) inside the bounds, and says which in --help ("INT:whole number in [1, 100000]").
// Checked while the command line is parsed, before any work; tests/cli/flag_ranges_test.cc walks
// every subcommand's flags and requires one on each numeric flag.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "graph/graph_builder.h"

namespace thaw::cli {

using thaw::kMaxClasses;
using thaw::kMaxInputSize;

// The validator's name, by which a test finds it on an option.
inline constexpr const char* kFlagRangeName = "range";

struct FlagRange {
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;  // (lo, ...: the bound itself is excluded
  bool whole = false;                     // an integer flag
  std::string note;                       // what a special value means, e.g. "0: all cores"
};

// A whole number in [lo, hi].
FlagRange whole(int64_t lo, int64_t hi, std::string note = {});
// A real number in [lo, hi]; open_lo / open_hi exclude that bound.
FlagRange real(double lo, double hi, bool open_lo = false, bool open_hi = false);

// "whole number in [1, 100000]", "number in (0, 1]"; with the note after a semicolon.
std::string describe(const FlagRange& r);
// Empty when `text` is in the range, else why not (CLI11 puts the flag's name in front).
std::string range_error(const FlagRange& r, const std::string& text);

CLI::Validator in_range(const FlagRange& r);

// The ranges shared by several subcommands.
inline constexpr int64_t kMaxThreads = 1024;    // above any server's cores; OpenMP fails beyond
inline constexpr int64_t kMaxBatch = 65536;
inline constexpr int64_t kMaxCount = int64_t{1} << 40;  // samples, steps: far beyond any dataset
inline constexpr int64_t kMaxEpochs = 100000;
inline constexpr int64_t kMaxSide = 16384;  // thaw pack --side
FlagRange threads_range();  // [0, kMaxThreads], 0: all cores
FlagRange fraction_range();  // [0, 1)
FlagRange seed_range();      // any unsigned 64-bit integer
FlagRange input_size_range();  // [the architectures' smallest input, kMaxInputSize]

// --max-image-pixels, the same on every command that decodes images (io/image_decode.h).
CLI::Option* add_max_image_pixels_flag(CLI::App* sub, int64_t& pixels);
// --window C,W and --dicom-frame N, the same on every command that decodes images
// (io/pixel_mapping.h); --window is checked while the command line is parsed.
void add_pixel_mapping_flags(CLI::App* sub, std::string& window, int64_t& frame);

}  // namespace thaw::cli
