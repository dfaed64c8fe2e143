#include "engine/parallel/grad_buckets.h"

#include <algorithm>

#include "core/error.h"
#include "engine/parallel/tree_reduce.h"

namespace thaw {

GradientBuckets::GradientBuckets(std::span<const int> trainable, std::span<const int64_t> sizes,
                                 size_t bucket_floats) {
  THAW_CHECK(trainable.size() == sizes.size(), trainable.size(), " tensors, ", sizes.size(), " sizes");
  const int top = trainable.empty() ? -1 : *std::max_element(trainable.begin(), trainable.end());
  bucket_of_.assign(static_cast<size_t>(top + 1), -1);
  offset_.assign(static_cast<size_t>(top + 1), 0);
  size_t total = 0;
  for (size_t k = 0; k < trainable.size(); ++k) {
    offset_[static_cast<size_t>(trainable[k])] = total;
    total += static_cast<size_t>(sizes[k]);
  }
  const size_t want = std::max<size_t>(bucket_floats, 1);
  for (size_t k = trainable.size(); k-- > 0;) {
    const size_t lo = offset_[static_cast<size_t>(trainable[k])];
    if (buckets_.empty() || buckets_.back().hi - buckets_.back().lo >= want) {
      buckets_.push_back({lo, lo + static_cast<size_t>(sizes[k]), 0});
    }
    Bucket& b = buckets_.back();
    b.lo = lo;
    ++b.tensors;
    bucket_of_[static_cast<size_t>(trainable[k])] = static_cast<int>(buckets_.size() - 1);
  }
  reset();
}

void GradientBuckets::reset() {
  pending_.resize(buckets_.size());
  for (size_t b = 0; b < buckets_.size(); ++b) pending_[b] = buckets_[b].tensors;
}

int GradientBuckets::ready(int tensor) {
  THAW_CHECK(tensor >= 0 && static_cast<size_t>(tensor) < bucket_of_.size() && bucket_of_[tensor] >= 0,
             "tensor ", tensor, " is not trainable");
  const int b = bucket_of_[static_cast<size_t>(tensor)];
  THAW_CHECK(pending_[static_cast<size_t>(b)] > 0, "tensor ", tensor, "'s gradient was final twice");
  return --pending_[static_cast<size_t>(b)] == 0 ? b : -1;
}

BucketReducer::BucketReducer(Comm& comm) : comm_(comm) {
  if (comm_.size() > 1 && comm_.any_thread()) thread_ = std::thread([this] { work(); });
}

BucketReducer::~BucketReducer() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BucketReducer::post(float* data, size_t count, std::string what, std::function<void()> ready) {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    THAW_CHECK(!closing_, "a bucket posted after finish()");
    jobs_.push_back({data, count, std::move(what), std::move(ready)});
  }
  cv_.notify_all();
}

void BucketReducer::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || closing_ || !jobs_.empty(); });
      // After an error the rest are dropped: finish() rethrows it, and the step ends there.
      if (stop_ || error_ || jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      reduce(job);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
  }
}

void BucketReducer::finish() {
  {
    const std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    return;
  }
  // No thread: the buckets one after another, here.
  for (Job& job : jobs_) reduce(job);
  jobs_.clear();
}

void BucketReducer::reduce(Job& job) {
  if (job.ready) job.ready();
  tree_allreduce_bucket(comm_, job.data, job.count, job.what);
}

}  // namespace thaw
