#pragma once
// A labelled image collection as the trainer sees it: samples addressed by index, each delivered
// already resized and normalised, so that what sample i looks like never depends on batch or thread.
#include <cstdint>
#include <string>
#include <vector>

namespace thaw {

// How a sample is wanted: for evaluation (the same pixels every time), or for training in an
// epoch (augmented, where the dataset augments, by a function of (seed, epoch, sample) only).
struct LoadMode {
  bool train = false;
  int64_t epoch = 0;

  static LoadMode eval() { return {}; }
  static LoadMode training(int64_t epoch) { return {true, epoch}; }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual std::vector<std::string> class_names() const = 0;
  virtual int32_t label(int64_t i) const = 0;
  // Writes sample i as float [3, size, size], normalised to mean 0.5 / std 0.5 per channel.
  virtual void load(int64_t i, int64_t size, LoadMode mode, float* chw) const = 0;
  virtual std::string describe() const = 0;
  // SHA-256 (hex) of sample i's stored bytes (IDX: the image's pixels; a file: its bytes), for run
  // records and manifests. Empty when the dataset cannot say: a record then hashes the decoded input.
  virtual std::string content_hash(int64_t /*i*/) const { return {}; }
  // Where sample i comes from, for predictions files: its file (image data); empty when it has none.
  virtual std::string source_path(int64_t /*i*/) const { return {}; }
  // The group of sample i (a patient, a site: the manifest's group column); empty when none.
  virtual std::string group(int64_t /*i*/) const { return {}; }
};

}  // namespace thaw
