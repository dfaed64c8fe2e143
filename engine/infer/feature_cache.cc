#include "engine/infer/feature_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <xxhash.h>

#include "core/error.h"

namespace thaw {

namespace {

std::string hex128(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

// One XXH3-128 stream fed with values of any plain type.
class Hasher {
 public:
  Hasher() : st_(XXH3_createState()) {
    if (st_ == nullptr) fail_internal("xxhash: cannot allocate a hash state");
    XXH3_128bits_reset(st_);
  }
  ~Hasher() { XXH3_freeState(st_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void bytes(const void* p, size_t n) { XXH3_128bits_update(st_, p, n); }
  template <typename V>
  void value(const V& v) {
    bytes(&v, sizeof v);
  }
  void text(std::string_view s) {
    value(s.size());
    bytes(s.data(), s.size());
  }
  std::string hex() const { return hex128(XXH3_128bits_digest(st_)); }

 private:
  XXH3_state_t* st_;
};

// How samples become pixels here: evaluation preprocessing at the graph's input size (a training
// load without augmentation is the same pixels).
std::string preprocessing_tag(const Graph& g) { return cat_str("eval-pixels@", g.input_size); }

}  // namespace

int cache_boundary(const Graph& g, const Plan& plan) {
  if (plan.freeze_block < 0 || plan.freeze_block + 1 >= static_cast<int>(g.blocks.size())) return -1;
  const int boundary = g.blocks[plan.freeze_block].last_node;
  for (int i = 1; i <= boundary; ++i) {
    if (plan.trainable[i]) return -1;
  }
  for (size_t i = boundary + 1; i < g.nodes.size(); ++i) {
    for (int in : g.nodes[i].inputs) {
      if (in < boundary) return -1;
    }
  }
  return boundary;
}

std::string frozen_part_key(const Graph& g, int boundary, const ModelState<float>& state) {
  Hasher h;
  h.text("thaw-feature-cache-v1");
  h.value(g.input_size);
  h.value(boundary);
  for (int i = 0; i <= boundary; ++i) {
    const Node& n = g.nodes[static_cast<size_t>(i)];
    h.value(static_cast<int>(n.kind));
    h.value(n.inputs.size());
    for (int in : n.inputs) h.value(in);
    h.value(n.out.size());
    for (int64_t d : n.out) h.value(d);
    for (int64_t v : {n.kh, n.kw, n.sh, n.sw, n.ph, n.pw}) h.value(v);
    h.value(n.eps);
    h.value(n.pool_count_pad);
    h.value(n.dropout);
    for (int t : n.tensors) {
      const Tensor<float>& v = state.values[static_cast<size_t>(t)];
      h.text(g.tensors[static_cast<size_t>(t)].name);
      h.value(v.numel());
      if (v.numel() > 0) h.bytes(v.data(), static_cast<size_t>(v.numel()) * sizeof(float));
    }
  }
  return h.hex();
}

FeatureCache::FeatureCache(const Graph& g, int boundary, ModelState<float>& state, FeatureCacheOptions options)
    : g_(g),
      boundary_(boundary),
      options_(std::move(options)),
      frozen_(g, make_plan(g, static_cast<int>(g.blocks.size()) - 1, BnPolicy::Frozen), state),
      frozen_key_(frozen_part_key(g, boundary, state)) {
  THAW_CHECK(boundary >= 1 && boundary < g.output_node(), "feature cache: boundary node ", boundary, " out of range");
  per_sample_ = shape_numel(g.nodes[static_cast<size_t>(boundary)].out);
}

FeatureCache::~FeatureCache() {
  if (fd_ >= 0) ::close(fd_);
}

std::string FeatureCache::sample_key(const Dataset& data, int64_t i, const float* pixels) const {
  Hasher h;
  h.text(frozen_key_);
  h.text(preprocessing_tag(g_));
  const std::string content = data.content_hash(i);
  if (!content.empty()) {
    h.text("content");
    h.text(content);
  } else {
    // The dataset cannot name its stored bytes: the pixels themselves are the sample.
    h.text("pixels");
    h.bytes(pixels, static_cast<size_t>(3 * g_.input_size * g_.input_size) * sizeof(float));
  }
  return h.hex();
}

int64_t FeatureCache::slot_of(const Dataset& data, int64_t i, const float* pixels, bool& fresh) {
  fresh = false;
  const auto at = by_sample_.find({&data, i});
  if (at != by_sample_.end()) return at->second;
  // A byte-identical sample seen under another index (or in the other split) shares the entry.
  const auto [it, inserted] = slots_.try_emplace(sample_key(data, i, pixels), slot_count_);
  if (inserted) {
    ++slot_count_;
    fresh = true;
  }
  by_sample_.emplace(std::make_pair(&data, i), it->second);
  return it->second;
}

void FeatureCache::store(int64_t slot, const float* row) {
  const size_t bytes = static_cast<size_t>(per_sample_) * sizeof(float);
  THAW_CHECK(slot == memory_slots_ + (fd_ < 0 ? 0 : stats_.disk_bytes / static_cast<int64_t>(bytes)),
             "feature cache: slots are stored in order");
  if (fd_ < 0 && stats_.memory_bytes + static_cast<int64_t>(bytes) <= options_.memory_bytes) {
    auto values = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(per_sample_));
    std::memcpy(values.get(), row, bytes);
    memory_.push_back(std::move(values));
    ++memory_slots_;
    stats_.memory_bytes += static_cast<int64_t>(bytes);
    return;
  }
  if (fd_ < 0) {
    std::error_code ec;
    const std::filesystem::path dir = options_.spill_dir.empty() || !std::filesystem::is_directory(options_.spill_dir, ec)
                                          ? std::filesystem::temp_directory_path()
                                          : options_.spill_dir;
    std::string tmpl = (dir / "thaw-feature-cache-XXXXXX").string();
    fd_ = ::mkstemp(tmpl.data());
    if (fd_ < 0) fail_user("feature cache: cannot create a spill file in ", dir.string(), ": ", std::strerror(errno));
    ::unlink(tmpl.c_str());  // the file lives as long as the descriptor, not a byte longer
  }
  const off_t at = static_cast<off_t>(slot - memory_slots_) * static_cast<off_t>(bytes);
  if (::pwrite(fd_, row, bytes, at) != static_cast<ssize_t>(bytes)) {
    fail_user("feature cache: cannot write the spill file (", std::strerror(errno), "); the disk may be full");
  }
  stats_.disk_bytes += static_cast<int64_t>(bytes);
}

void FeatureCache::load(int64_t slot, float* row) const {
  const size_t bytes = static_cast<size_t>(per_sample_) * sizeof(float);
  if (slot < memory_slots_) {
    std::memcpy(row, memory_[static_cast<size_t>(slot)].get(), bytes);
    return;
  }
  const off_t at = static_cast<off_t>(slot - memory_slots_) * static_cast<off_t>(bytes);
  if (::pread(fd_, row, bytes, at) != static_cast<ssize_t>(bytes)) {
    fail_internal("feature cache: cannot read back slot ", slot, " (", std::strerror(errno), ")");
  }
}

const Tensor<float>& FeatureCache::boundary_batch(const Dataset& data, std::span<const int64_t> indices,
                                                  const Tensor<float>& x) {
  const int64_t b = static_cast<int64_t>(indices.size());
  const int64_t px = 3 * g_.input_size * g_.input_size;
  THAW_CHECK(x.rank() == 4 && x.dim(0) == b && x.numel() == b * px, "feature cache: pixels ", shape_str(x.shape()),
             " for ", b, " samples");
  std::vector<int64_t> slots(static_cast<size_t>(b));
  std::vector<int64_t> missing;  // batch rows whose entry is new, first occurrence only
  for (int64_t r = 0; r < b; ++r) {
    bool fresh = false;
    slots[r] = slot_of(data, indices[r], x.data() + r * px, fresh);
    if (fresh) missing.push_back(r);
  }
  if (!missing.empty()) {
    const int64_t m = static_cast<int64_t>(missing.size());
    missing_x_.reshape_uninit({m, 3, g_.input_size, g_.input_size});
    for (int64_t j = 0; j < m; ++j) {
      std::memcpy(missing_x_.data() + j * px, x.data() + missing[j] * px, static_cast<size_t>(px) * sizeof(float));
    }
    const Tensor<float>& act = frozen_.forward_until(missing_x_, boundary_, Phase::Eval);
    for (int64_t j = 0; j < m; ++j) store(slots[missing[j]], act.data() + j * per_sample_);
  }
  Shape shape{b};
  for (int64_t d : g_.nodes[static_cast<size_t>(boundary_)].out) shape.push_back(d);
  out_.reshape_uninit(shape);
  for (int64_t r = 0; r < b; ++r) load(slots[r], out_.data() + r * per_sample_);
  stats_.computed += static_cast<int64_t>(missing.size());
  stats_.reused += b - static_cast<int64_t>(missing.size());
  return out_;
}

}  // namespace thaw
