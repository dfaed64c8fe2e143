#include "study/sweep_data_check.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>

#include "core/error.h"
#include "engine/run/split_options.h"
#include "io/dataset.h"
#include "io/dataset_view.h"
#include "io/image_decode.h"
#include "io/datasets.h"
#include "io/left_out_files.h"
#include "io/pack_format.h"

namespace thaw {

namespace {

std::unique_ptr<Dataset> open_split(const RunConfig& c, DataSplit split) {
  const DataOptions o = split_options(c);
  return with_class_subset(open_dataset(c.data, split, o), c.class_subset);
}

bool file_starts_as_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char b[132] = {};
  in.read(b, sizeof b);
  return starts_as_image(std::string_view(b, static_cast<size_t>(in.gcount())));
}

int64_t int_arg(const std::vector<std::string>& args, const std::string& flag, int64_t fallback) {
  const std::string v = train_arg(args, flag);
  if (v.empty()) return fallback;
  try {
    return std::stoll(v);
  } catch (const std::exception&) {
    return fallback;  // thaw train names the bad value itself
  }
}

}  // namespace

std::string train_arg(const std::vector<std::string>& train_args, const std::string& flag) {
  std::string value;
  for (size_t i = 0; i < train_args.size(); ++i) {
    const std::string& a = train_args[i];
    if (a == flag && i + 1 < train_args.size()) value = train_args[i + 1];
    if (a.rfind(flag + "=", 0) == 0) value = a.substr(flag.size() + 1);
  }
  return value;
}

void check_sweep_data(const RunConfig& c, const std::vector<std::string>& train_args, std::ostream& log) {
  DataOptions o;
  o.val_fraction = c.val_fraction;
  if (held_out_split(c.data, o) == DataSplit::Test) {
    fail_user("--val-fraction: the sweep picks its best arm on a validation split and tests on the test split; "
              "give --val-fraction F to carve validation out of ", c.data, "'s train split");
  }
  const std::unique_ptr<Dataset> train = open_split(c, DataSplit::Train);
  const std::unique_ptr<Dataset> val = open_split(c, DataSplit::Val);
  const std::unique_ptr<Dataset> test = open_split(c, DataSplit::Test);
  const std::string why = "the sweep picks its best arm on the validation split and reports it on the test split";
  if (val->size() == 0 && test->size() == 0) {
    fail_user("--data ", c.data, ": no validation and no test split (", why,
              "); give --val-fraction F and --test-fraction F to carve them out of train, e.g. "
              "--val-fraction 0.2 --test-fraction 0.2");
  }
  if (test->size() == 0) {
    fail_user("--data ", c.data, ": no test split (", why, "); give --test-fraction F to carve one out of train, e.g. "
              "--test-fraction 0.2");
  }
  if (val->size() == 0) {
    fail_user("--data ", c.data, ": no validation split (", why,
              "); give --val-fraction F to carve one out of train, e.g. --val-fraction 0.2");
  }
  const std::vector<std::string> classes = train->class_names();
  if (classes.size() < 2) {
    fail_user("--data ", c.data, ": ", classes.size(), " class", classes.size() == 1 ? " ('" + classes[0] + "')" : "",
              c.class_subset.empty() ? "" : " in --class-subset " + c.class_subset,
              "; expected at least 2 classes to tell apart (one sub-folder of images per class)");
  }
  // A file that is not an image at all would fail every arm, one after the other; decoding problems
  // past the first bytes still show in the arm that meets them.
  const bool sniff = is_image_data(c.data) && !is_pack_dir(c.data) && train_arg(train_args, "--on-bad-image") != "skip";
  for (const Dataset* d : {train.get(), val.get(), test.get()}) {
    if (!sniff) break;
    for (int64_t i = 0; i < d->size(); ++i) {
      const std::string path = d->source_path(i);
      if (!path.empty() && !file_starts_as_image(path)) {
        fail_user(path, ": not a JPEG, PNG, TIFF or DICOM image (its first bytes are none of them); expected only images in ", c.data,
                  " (remove it, or give --on-bad-image skip to leave unreadable images out)");
      }
    }
  }
  if (std::filesystem::is_directory(c.data) && is_image_data(c.data) && !is_pack_dir(c.data)) {
    warn_left_out_files(c.data, log);
  }
  const int64_t batch = int_arg(train_args, "--batch-size", RunConfig{}.batch_size);
  const int64_t limit = int_arg(train_args, "--train-limit", 0);
  const int64_t images = limit > 0 ? std::min(limit, train->size()) : train->size();
  if (images < batch) {
    fail_user("--batch-size ", batch, ": the training split of ", c.data, " has ", images,
              " images (after the validation and test splits), fewer than one batch; give --batch-size ", images,
              " or less, or more images");
  }
}

}  // namespace thaw
