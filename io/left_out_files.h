#pragma once
// Files in a folder of class folders (or of train/val/test folders of class folders) that thaw
// leaves out because their names are not .jpg, .jpeg, .png, .tif, .tiff, .dcm or .dicom (docs/data.md): a .heic, .bmp or .nii
// there is an image a study would lose without a word, so every command that reads such a folder
// counts and names them in one warning line. Not an error: Thumbs.db and notes beside the images are
// common. Hidden files and folders are not counted.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace thaw {

// Sorted paths; empty for anything but a folder (a CSV names its files, IDX and packs have none).
std::vector<std::string> left_out_files(const std::string& data_spec);

// One line on `log` when there are any: "thaw: warning: 3 files in the class folders of D are not
// <kImageNames> and are left out: a.heic, b.bmp, notes.txt" (the first 5 named, then "and N more").
void warn_left_out_files(const std::string& data_spec, std::ostream& log);

}  // namespace thaw
