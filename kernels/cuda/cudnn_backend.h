#pragma once
// A thin owning layer over cuDNN's backend (graph) C API: one RAII type for every backend
// descriptor, typed setters and getters that throw with the attribute's name, and readable names
// for the numerical and behavior notes that drive engine selection.
#include <cudnn.h>

#include <cstdint>
#include <string>
#include <vector>

namespace thaw::cuda {

class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  explicit BackendDescriptor(cudnnBackendDescriptorType_t type);
  ~BackendDescriptor();
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;
  BackendDescriptor(BackendDescriptor&& o) noexcept;
  BackendDescriptor& operator=(BackendDescriptor&& o) noexcept;

  cudnnBackendDescriptor_t get() const { return desc_; }
  explicit operator bool() const { return desc_ != nullptr; }

  // `what` names the attribute in error messages.
  void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, int64_t count, const void* values,
           const char* what);
  void set_int64(cudnnBackendAttributeName_t name, const std::vector<int64_t>& values, const char* what);
  void set_desc(cudnnBackendAttributeName_t name, const BackendDescriptor& d, const char* what);
  void finalize(const char* what);
  // Finalize where failure is an expected answer (an engine config that does not support the
  // problem): returns the status instead of throwing.
  cudnnStatus_t try_finalize();

  int64_t get_int64(cudnnBackendAttributeName_t name, const char* what) const;
  // Reads a descriptor-valued attribute into `into`, which must have been created with the
  // attribute's descriptor type.
  void get_desc(cudnnBackendAttributeName_t name, BackendDescriptor& into, const char* what) const;

 private:
  cudnnBackendDescriptor_t desc_ = nullptr;
};

// The deprecated handle attributes (an operation graph's, an execution plan's): optional since
// cuDNN 9.8, required before it, so set for every 9.x the device may carry. A library that refuses
// one no longer needs it: the refusal is noted once in `log` as "<what> refused (...)", not fatal.
void set_handle_attribute(BackendDescriptor& d, cudnnBackendAttributeName_t name, cudnnHandle_t handle,
                          const char* what, std::string& log);

// Numerical notes of an engine (CUDNN_ATTR_ENGINE_NUMERICAL_NOTE) as plain ints, so that notes a
// newer cuDNN adds still show up (by number) rather than being dropped.
std::vector<int> engine_numerical_notes(const BackendDescriptor& engine);
std::vector<int> engine_behavior_notes(const BackendDescriptor& engine);
std::string numerical_note_name(int note);  // "NONDETERMINISTIC", ... or "note<N>"
std::string behavior_note_name(int note);
std::string knob_name(int knob);  // "TILE_SIZE", ... or "knob<N>"

}  // namespace thaw::cuda
