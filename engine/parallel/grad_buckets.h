#pragma once
// The gradient reduction of data parallelism in buckets, overlapped with the backward pass of a
// rank's last shard (engine/train/train_step.h). Backward finishes the last layers first: as soon as
// every tensor of a bucket has its final gradient, the bucket's range is folded into the rank's
// subtree sum (LeafStack::fold) and its reduction across ranks (tree_allreduce_bucket) starts on
// a thread of its own while backward goes on with the earlier layers. Every element is still the
// same fixed tree (the rank's shards in LeafStack order, then the top of the tree across ranks),
// and elements are independent of one another: where the buckets end changes no bits.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/parallel/comm.h"

namespace thaw {

// Floats per bucket. Smaller than the 32 MiB of kGradientBucketFloats so that the first bucket
// is complete after the last few layers' backward (the head and mixed_7d hold a few million
// parameters) and the last one, which nothing can hide, is short; at 4 MiB a bucket still
// takes about 10 us on NVLink, well above a message's latency.
inline constexpr size_t kOverlapBucketFloats = size_t{1} << 20;

// Whole trainable tensors, cut into buckets of about `bucket_floats` from the end of the flat
// gradient (the trainable tensors in plan order, as LeafStack holds them), so that buckets come
// complete in the order backward finishes them.
class GradientBuckets {
 public:
  struct Bucket {
    size_t lo = 0, hi = 0;  // floats [lo, hi) of the flat gradient
    int tensors = 0;
  };
  // trainable: Graph::tensors indices in plan order; sizes: their element counts.
  GradientBuckets(std::span<const int> trainable, std::span<const int64_t> sizes, size_t bucket_floats);

  size_t size() const { return buckets_.size(); }
  const Bucket& operator[](size_t b) const { return buckets_[b]; }
  size_t offset(int tensor) const { return offset_[static_cast<size_t>(tensor)]; }  // in the flat gradient

  // Before each backward.
  void reset();
  // Tensor `tensor`'s gradient is final: the bucket it completes, or -1.
  int ready(int tensor);

 private:
  std::vector<Bucket> buckets_;  // from the end of the flat gradient: bucket 0 holds the last tensors
  std::vector<int> bucket_of_;   // per Graph::tensors index, -1 when not trainable
  std::vector<size_t> offset_;   // per Graph::tensors index
  std::vector<int> pending_;     // per bucket: tensors not yet final
};

// Reduces posted buckets across ranks, in posting order, on a thread of its own (one per rank,
// joined by finish() or the destructor) where the comm lets another thread exchange; elsewhere
// finish() reduces them on the caller's thread. Every rank posts the same buckets in the same
// order, so the exchanges match.
class BucketReducer {
 public:
  explicit BucketReducer(Comm& comm);
  // Stops after the bucket under way (when the step failed) and joins; never throws.
  ~BucketReducer();
  BucketReducer(const BucketReducer&) = delete;
  BucketReducer& operator=(const BucketReducer&) = delete;

  // data[0, count) holds this rank's subtree sum; it must stay put until finish(). `ready`, when
  // given, runs first on the reducing thread and returns once the data is there (a GPU's queued
  // additions: an event waited for).
  void post(float* data, size_t count, std::string what, std::function<void()> ready = {});
  // Waits until every posted bucket holds the sum over all ranks; the first error of the
  // reduction (a rank that did not answer, a stopped group) is rethrown here, on the caller's thread.
  void finish();

 private:
  struct Job {
    float* data = nullptr;
    size_t count = 0;
    std::string what;
    std::function<void()> ready;
  };
  void reduce(Job& job);
  void work();

  Comm& comm_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool closing_ = false;  // no more posts: the thread returns when the queue is empty
  bool stop_ = false;     // return after the bucket under way
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace thaw
