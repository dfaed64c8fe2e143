#pragma once
// The list of labelled image files behind an image dataset, before any pixels are read: from a
// folder with one sub-folder per class, or from a CSV manifest.
//
// Folder: every sub-folder (hidden ones excepted) is a class, named after it; its files named as
// kImageNames says (any case, sub-folders included) are its images. Classes are in byte order of their
// names, files in byte order of their paths. Every image is its own group; all are train.
//
// CSV: a header naming the columns `path` (or `file`) and `label`, and optionally `split` and
// `group`; other columns are ignored. Paths are relative to the CSV's folder unless absolute.
// Splits are train (or training), val (or valid, validation), test (or testing), any case; without
// a split column every row is train. An empty group makes the row its own group. Classes are the
// distinct labels in byte order, or in numeric order when every label is a non-negative integer.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/data_split.h"

namespace thaw {

struct ImageRecord {
  std::filesystem::path path;
  int32_t label = 0;
  DataSplit split = DataSplit::Train;
  std::string group;    // empty: the record is a group of its own
  int64_t line = 0;     // CSV line (0 for a folder), for messages
};

struct ImageManifest {
  std::string source;  // the folder or CSV, as given
  std::vector<std::string> class_names;
  std::vector<ImageRecord> records;
  bool has_split_column = false;
  bool has_group_column = false;
};

// Missing files, an empty class folder, a bad header, split or label are UserErrors naming the
// folder or the CSV file and line.
ImageManifest scan_image_folder(const std::filesystem::path& dir);
// require_files = false keeps rows whose image is missing (--on-bad-image skip: they fail to load).
ImageManifest read_csv_manifest(const std::filesystem::path& csv, bool require_files = true);

// The names read as images, for messages.
inline constexpr const char* kImageNames = ".jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom";

// Whether a file in a class folder is read as an image (kImageNames, in any case), and whether a
// name is hidden (starts with '.'; such files and folders are not looked at).
bool is_image_name(const std::filesystem::path& p);
bool is_hidden(const std::filesystem::path& p);

// The group a record belongs to for splitting: its group, or a name of its own when it has none.
std::string group_key(const ImageRecord& r);

}  // namespace thaw
