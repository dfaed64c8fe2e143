#pragma once
// The batch loader: worker threads decode and augment samples into a bounded ring of batch slots
// while the consumer trains on the batches before them. Batches come out in the order given, each
// sample written into its own place in its batch, and a sample's pixels depend only on (dataset,
// sample, size, LoadMode), so the number of workers changes the speed, never the bits.
//
// Errors: a sample that fails to load is looked at only when its batch is handed out. With
// BadImagePolicy::Fail the error of the batch's first failing sample (in batch order) is rethrown
// from next(); with Skip the failing samples are reported through on_skip, listed in
// LoadedBatch::skipped and left out: an evaluation batch just gets shorter (the rest keep their
// order), while a training batch keeps its size (virtual shards and batch norm depend on it): a
// skipped sample's place takes a copy of the next readable sample of the batch, in batch order,
// wrapping around. Only UserErrors (bad files) are skipped; anything else is always rethrown.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/host_allocator.h"
#include "core/tensor.h"
#include "io/bad_image.h"
#include "io/dataset.h"

namespace thaw {

struct LoaderOptions {
  int workers = 0;       // worker threads; 0: one per core (std::thread::hardware_concurrency)
  int prefetch = 2;      // batches decoded ahead of the one the consumer holds (>= 1)
  HostAllocator* allocator = nullptr;  // memory of the batch slots; nullptr: plain aligned memory
  BadImagePolicy on_bad_image = BadImagePolicy::Fail;
  // Called on the consumer's thread, from next(), once per skipped sample (Skip policy only).
  std::function<void(int64_t index, const std::string& message)> on_skip;
};

// The worker count `workers` resolves to (0: the number of cores, at least 1).
int resolve_workers(int workers);

struct LoadedBatch {
  int64_t number = 0;  // position in the loader's list of batches
  const float* x = nullptr;         // [count, 3, size, size], normalised pixels
  Shape shape;                      // {count, 3, size, size}
  std::vector<int32_t> labels;      // count labels
  std::vector<int64_t> indices;     // the samples in x, in batch order (a training batch may repeat one)
  std::vector<int64_t> skipped;     // samples left out (Skip policy), in batch order
  int64_t count() const { return static_cast<int64_t>(indices.size()); }
};

// The first `count` batches of `batch_size` consecutive samples of `order`.
std::vector<std::vector<int64_t>> batches_from(const std::vector<int64_t>& order, int64_t batch_size, int64_t count);

class BatchLoader {
 public:
  // `batches`: the sample indices of each batch, in the order they are wanted.
  BatchLoader(const Dataset& data, std::vector<std::vector<int64_t>> batches, int64_t size, LoadMode mode,
              LoaderOptions options = {});
  // Stops the workers (each finishes the sample it is decoding) and joins them; never waits for
  // the remaining batches.
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch, once all its samples are done; nullptr after the last. The batch stays valid
  // until the next call (its slot is then given back to the workers).
  const LoadedBatch* next();

  int workers() const { return static_cast<int>(threads_.size()); }
  int64_t slots() const { return static_cast<int64_t>(slots_.size()); }
  // Most batches that were ever being filled or waiting at once (for tests of the bound).
  int64_t max_batches_in_flight() const;

  // next(), copied into a tensor and a label vector (the CPU trainer's input). A batch whose
  // every sample was skipped is a UserError; no batch left is an internal error.
  const LoadedBatch& next_into(Tensor<float>& x, std::vector<int32_t>& labels);

 private:
  struct Slot {
    HostBuffer pixels;
    std::vector<int32_t> labels;
    std::vector<std::exception_ptr> errors;
    int64_t done = 0;  // samples of the slot's current batch finished
    LoadedBatch view;
  };

  void work();
  void hand_out(int64_t b, Slot& slot);

  const Dataset& data_;
  std::vector<std::vector<int64_t>> batches_;
  int64_t size_, per_sample_;
  LoadMode mode_;
  LoaderOptions options_;
  PlainHostAllocator plain_;
  std::vector<int64_t> batch_of_, slot_of_;  // per sample of the whole run: its batch and place in it
  std::vector<Slot> slots_;

  mutable std::mutex mu_;
  std::condition_variable space_, ready_;
  int64_t next_sample_ = 0;  // the next sample (over all batches) a worker takes
  int64_t released_ = 0;     // batches whose slots went back to the workers
  int64_t handed_ = 0;       // batches handed to the consumer
  int64_t max_in_flight_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace thaw
