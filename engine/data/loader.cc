#include "engine/data/loader.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "engine/data/parallel_copy.h"

namespace thaw {

int resolve_workers(int workers) {
  if (workers < 0) fail_user("--workers: expected 0 (one per core) or a positive count, got ", workers);
  if (workers > 0) return workers;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

BatchLoader::BatchLoader(const Dataset& data, std::vector<std::vector<int64_t>> batches, int64_t size, LoadMode mode,
                         LoaderOptions options)
    : data_(data), batches_(std::move(batches)), size_(size), per_sample_(3 * size * size), mode_(mode),
      options_(std::move(options)) {
  if (options_.prefetch < 1) fail_internal("BatchLoader: prefetch must be at least 1, got ", options_.prefetch);
  size_t largest = 0;
  for (size_t b = 0; b < batches_.size(); ++b) {
    largest = std::max(largest, batches_[b].size());
    for (size_t s = 0; s < batches_[b].size(); ++s) {
      batch_of_.push_back(static_cast<int64_t>(b));
      slot_of_.push_back(static_cast<int64_t>(s));
    }
  }
  HostAllocator& alloc = options_.allocator ? *options_.allocator : plain_;
  const size_t ring = std::min(batches_.size(), static_cast<size_t>(options_.prefetch) + 1);
  slots_.resize(ring);
  for (Slot& slot : slots_) {
    slot.pixels = HostBuffer(alloc, largest * static_cast<size_t>(per_sample_) * sizeof(float));
    slot.labels.resize(largest);
    slot.errors.resize(largest);
  }
  const int64_t total = static_cast<int64_t>(batch_of_.size());
  const int n = static_cast<int>(std::min<int64_t>(resolve_workers(options_.workers), total));
  try {
    for (int t = 0; t < n; ++t) threads_.emplace_back([this] { work(); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    for (std::thread& t : threads_) t.join();
    throw;
  }
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  space_.notify_all();
  for (std::thread& t : threads_) t.join();
}

int64_t BatchLoader::max_batches_in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

void BatchLoader::work() {
  const int64_t total = static_cast<int64_t>(batch_of_.size());
  const int64_t ring = static_cast<int64_t>(slots_.size());
  for (;;) {
    int64_t k = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A batch may be filled once the slot it goes into has been given back.
      space_.wait(lock, [&] { return stop_ || next_sample_ >= total || batch_of_[next_sample_] < released_ + ring; });
      if (stop_ || next_sample_ >= total) return;
      k = next_sample_++;
      max_in_flight_ = std::max(max_in_flight_, batch_of_[k] - released_ + 1);
    }
    const int64_t b = batch_of_[k], s = slot_of_[k];
    Slot& slot = slots_[static_cast<size_t>(b % ring)];
    const int64_t index = batches_[static_cast<size_t>(b)][static_cast<size_t>(s)];
    try {
      data_.load(index, size_, mode_, slot.pixels.as<float>() + s * per_sample_);
      slot.labels[static_cast<size_t>(s)] = data_.label(index);
    } catch (...) {
      slot.errors[static_cast<size_t>(s)] = std::current_exception();
    }
    bool complete = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      complete = ++slot.done == static_cast<int64_t>(batches_[static_cast<size_t>(b)].size());
    }
    if (complete) ready_.notify_all();
  }
}

const LoadedBatch* BatchLoader::next() {
  const int64_t ring = static_cast<int64_t>(slots_.size());
  int64_t b = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (handed_ > released_) {
      // The consumer is done with the batch it held: its slot takes batch released_ + ring.
      Slot& old = slots_[static_cast<size_t>(released_ % ring)];
      old.done = 0;
      std::fill(old.errors.begin(), old.errors.end(), nullptr);
      released_ = handed_;
      space_.notify_all();
    }
    if (handed_ == static_cast<int64_t>(batches_.size())) return nullptr;
    b = handed_;
    Slot& slot = slots_[static_cast<size_t>(b % ring)];
    const int64_t want = static_cast<int64_t>(batches_[static_cast<size_t>(b)].size());
    ready_.wait(lock, [&] { return slot.done == want; });
    handed_ = b + 1;  // from here on the slot is the consumer's, even if hand_out throws
  }
  Slot& slot = slots_[static_cast<size_t>(b % ring)];
  hand_out(b, slot);
  return &slot.view;
}

void BatchLoader::hand_out(int64_t b, Slot& slot) {
  const std::vector<int64_t>& idx = batches_[static_cast<size_t>(b)];
  const size_t n = idx.size();
  LoadedBatch& v = slot.view;
  v.number = b;
  v.x = slot.pixels.as<float>();
  v.labels.clear();
  v.indices.clear();
  v.skipped.clear();
  std::vector<bool> good(n, true);
  for (size_t s = 0; s < n; ++s) {
    const std::exception_ptr& e = slot.errors[s];
    if (!e) continue;
    std::string message;
    try {
      std::rethrow_exception(e);
    } catch (const UserError& u) {
      message = u.what();
    } catch (...) {
      throw;  // not a bad file: never skipped
    }
    if (options_.on_bad_image == BadImagePolicy::Fail) {
      fail_user(message, " (--on-bad-image skip leaves unreadable images out)");
    }
    good[s] = false;
    v.skipped.push_back(idx[s]);
    if (options_.on_skip) options_.on_skip(idx[s], message);
  }
  float* px = slot.pixels.as<float>();
  const size_t bytes = static_cast<size_t>(per_sample_) * sizeof(float);
  const bool any_good = std::find(good.begin(), good.end(), true) != good.end();
  for (size_t s = 0; s < n; ++s) {
    size_t from = s;
    if (!good[s]) {
      if (!mode_.train || !any_good) continue;
      while (!good[from]) from = (from + 1) % n;  // the next readable sample, wrapping around
    }
    // Earlier gaps (evaluation) or a stand-in (training) move pixels; the source is never a gap.
    const size_t to = v.indices.size();
    if (to != from) {
      std::memcpy(px + static_cast<int64_t>(to) * per_sample_, px + static_cast<int64_t>(from) * per_sample_, bytes);
    }
    v.indices.push_back(idx[from]);
    v.labels.push_back(slot.labels[from]);
  }
  v.shape = {v.count(), 3, size_, size_};
}

const LoadedBatch& BatchLoader::next_into(Tensor<float>& x, std::vector<int32_t>& labels) {
  const LoadedBatch* p = next();
  if (!p) fail_internal("BatchLoader: asked for a batch past the last");
  const LoadedBatch& b = *p;
  if (b.count() == 0) {
    fail_user(data_.describe(), ": every image of batch ", b.number, " was skipped as unreadable (see the list above)");
  }
  x.reshape_uninit(b.shape);
  parallel_copy(x.data(), b.x, static_cast<size_t>(x.numel()) * sizeof(float));
  labels = b.labels;
  return b;
}

std::vector<std::vector<int64_t>> batches_from(const std::vector<int64_t>& order, int64_t batch_size, int64_t count) {
  if (count * batch_size > static_cast<int64_t>(order.size())) {
    fail_internal("batches_from: ", count, " batches of ", batch_size, " need more than ", order.size(), " samples");
  }
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(count));
  for (int64_t b = 0; b < count; ++b) {
    out[b].assign(order.begin() + b * batch_size, order.begin() + (b + 1) * batch_size);
  }
  return out;
}

}  // namespace thaw
