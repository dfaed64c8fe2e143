#include "kernels/cuda/cudnn_backend.h"

#include <utility>

#include "core/error.h"
#include "kernels/cuda/check.h"

namespace thaw::cuda {

BackendDescriptor::BackendDescriptor(cudnnBackendDescriptorType_t type) {
  THAW_CUDNN_CHECK_CTX(cudnnBackendCreateDescriptor(type, &desc_), cat_str("descriptor type ", static_cast<int>(type)));
}

BackendDescriptor::~BackendDescriptor() {
  if (desc_) THAW_CUDNN_LOG(cudnnBackendDestroyDescriptor(desc_));
}

BackendDescriptor::BackendDescriptor(BackendDescriptor&& o) noexcept : desc_(std::exchange(o.desc_, nullptr)) {}

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& o) noexcept {
  if (this != &o) {
    if (desc_) THAW_CUDNN_LOG(cudnnBackendDestroyDescriptor(desc_));
    desc_ = std::exchange(o.desc_, nullptr);
  }
  return *this;
}

void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count,
                            const void* values, const char* what) {
  THAW_CUDNN_CHECK_CTX(cudnnBackendSetAttribute(desc_, name, type, count, values), what);
}

void BackendDescriptor::set_int64(cudnnBackendAttributeName_t name, const std::vector<int64_t>& values,
                                  const char* what) {
  set(name, CUDNN_TYPE_INT64, static_cast<int64_t>(values.size()), values.data(), what);
}

void BackendDescriptor::set_desc(cudnnBackendAttributeName_t name, const BackendDescriptor& d, const char* what) {
  cudnnBackendDescriptor_t raw = d.get();
  set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw, what);
}

void BackendDescriptor::finalize(const char* what) { THAW_CUDNN_CHECK_CTX(cudnnBackendFinalize(desc_), what); }

cudnnStatus_t BackendDescriptor::try_finalize() { return cudnnBackendFinalize(desc_); }

int64_t BackendDescriptor::get_int64(cudnnBackendAttributeName_t name, const char* what) const {
  int64_t value = 0, count = 0;
  THAW_CUDNN_CHECK_CTX(cudnnBackendGetAttribute(desc_, name, CUDNN_TYPE_INT64, 1, &count, &value), what);
  return value;
}

void BackendDescriptor::get_desc(cudnnBackendAttributeName_t name, BackendDescriptor& into, const char* what) const {
  cudnnBackendDescriptor_t raw = into.get();
  int64_t count = 0;
  THAW_CUDNN_CHECK_CTX(cudnnBackendGetAttribute(desc_, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &count, &raw), what);
  THAW_CHECK(count == 1, what, ": cuDNN returned ", count, " descriptors, expected 1");
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void set_handle_attribute(BackendDescriptor& d, cudnnBackendAttributeName_t name, cudnnHandle_t handle,
                          const char* what, std::string& log) {
  const cudnnStatus_t st = cudnnBackendSetAttribute(d.get(), name, CUDNN_TYPE_HANDLE, 1, &handle);
  const std::string refused = cat_str(what, " refused");
  if (st != CUDNN_STATUS_SUCCESS && log.find(refused) == std::string::npos) {
    log += cat_str(" ", refused, " (", cudnnGetErrorString(st), ");");
  }
}
#pragma GCC diagnostic pop

namespace {

// An engine carries each note at most once, so the number of note types this header knows is
// enough (the request size cuDNN's own frontend uses).
template <typename Note>
std::vector<int> read_notes(const BackendDescriptor& engine, cudnnBackendAttributeName_t name,
                            cudnnBackendAttributeType_t type, int64_t capacity, const char* what) {
  std::vector<Note> notes(static_cast<size_t>(capacity));
  int64_t count = 0;
  THAW_CUDNN_CHECK_CTX(cudnnBackendGetAttribute(engine.get(), name, type, capacity, &count, notes.data()), what);
  std::vector<int> out;
  for (int64_t i = 0; i < count && i < capacity; ++i) out.push_back(static_cast<int>(notes[i]));
  return out;
}

}  // namespace

std::vector<int> engine_numerical_notes(const BackendDescriptor& engine) {
  return read_notes<cudnnBackendNumericalNote_t>(engine, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                                 CUDNN_NUMERICAL_NOTE_TYPE_COUNT, "CUDNN_ATTR_ENGINE_NUMERICAL_NOTE");
}

std::vector<int> engine_behavior_notes(const BackendDescriptor& engine) {
  return read_notes<cudnnBackendBehaviorNote_t>(engine, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                                CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, "CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE");
}

std::string numerical_note_name(int note) {
  // Values as in cudnnBackendNumericalNote_t of cuDNN 9.
  constexpr const char* kNames[] = {"TENSOR_CORE",       "DOWN_CONVERT_INPUTS", "REDUCED_PRECISION_REDUCTION",
                                    "FFT",               "NONDETERMINISTIC",    "WINOGRAD",
                                    "WINOGRAD_TILE_4x4", "WINOGRAD_TILE_6x6",   "WINOGRAD_TILE_13x13",
                                    "STRICT_NAN_PROP"};
  if (note >= 0 && note < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[note];
  return cat_str("note", note);
}

std::string behavior_note_name(int note) {
  constexpr const char* kNames[] = {"RUNTIME_COMPILATION", "REQUIRES_FILTER_INT8x32_REORDER",
                                    "REQUIRES_BIAS_INT8x32_REORDER", "SUPPORTS_CUDA_GRAPH_NATIVE_API",
                                    "CUBLASLT_DEPENDENCY"};
  if (note >= 0 && note < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[note];
  return cat_str("behavior", note);
}

std::string knob_name(int knob) {
  // Values as in cudnnBackendKnobType_t of cuDNN 9.
  constexpr const char* kNames[] = {
      "SPLIT_K",     "SWIZZLE",    "TILE_SIZE",  "USE_TEX",          "EDGE",         "KBLOCK",
      "LDGA",        "LDGB",       "CHUNK_K",    "SPLIT_H",          "WINO_TILE",    "MULTIPLY",
      "SPLIT_K_BUF", "TILEK",      "STAGES",     "REDUCTION_MODE",   "CTA_SPLIT_K_MODE", "SPLIT_K_SLC",
      "IDX_MODE",    "SLICED",     "SPLIT_RS",   "SINGLEBUFFER",     "LDGC",         "SPECFILT",
      "KERNEL_CFG",  "WORKSPACE",  "TILE_CGA",   "TILE_CGA_M",       "TILE_CGA_N",   "BLOCK_SIZE",
      "OCCUPANCY",   "ARRAY_SIZE_PER_THREAD",    "NUM_C_PER_BLOCK",  "SPLIT_COLS",   "TILE_ROWS",
      "TILE_COLS",   "LOAD_SIZE",  "CTA_COUNT",  "STREAM_K",         "SPLIT_P_SLC",  "TILE_M",
      "TILE_N",      "WARP_SPEC_CFG",            "SWAP_AB"};
  if (knob >= 0 && knob < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[knob];
  return cat_str("knob", knob);
}

}  // namespace thaw::cuda
