#pragma once
// One cuDNN execution plan for one convolution problem (direction, geometry, math mode), built
// through the backend (graph) API and kept in the Context's plan cache.
//
// Engine choice (CUDNN.md): walk heuristics mode A, then the fallback list, in order; skip every
// config whose engine carries an excluded numerical note (always NONDETERMINISTIC, FFT and the
// WINOGRAD family; in fp32 also TENSOR_CORE, DOWN_CONVERT_INPUTS and REDUCED_PRECISION_REDUCTION)
// or needs more workspace than the Context allows; the first config whose plan finalizes wins.
// Nothing is timed, so the choice depends only on the problem, the device and the cuDNN version.
// Every candidate and the reason it was taken or skipped is kept for the run record. A replay pins
// the recorded choice (Context::set_pins): taken when the library still offers and builds it.
//
// A fused problem (ConvLayout::bias_relu) may have no engine at all: that answer is kept too (its
// identity is kNoEngine), and the caller runs the convolution and its bias + ReLU apart. A replay
// whose record says kNoEngine does the same, whatever the library offers now.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/conv_graph.h"
#include "kernels/cuda/cudnn_backend.h"
#include "kernels/cuda/plan_cache.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

class Context;

const char* direction_name(ConvDirection d);  // "fwd", "dgrad", "wgrad"
const char* math_name(ConvMath m);            // "fp32", "tf32", "bf16"

struct EngineCandidate {
  std::string source;  // "A#0", "fallback#3": heuristic list and rank
  int64_t global_index = -1;
  std::vector<int> numerical_notes, behavior_notes;
  std::vector<std::pair<int, int64_t>> knobs;  // (knob type, value)
  int64_t workspace_bytes = -1;                // known once a plan finalized
  std::string verdict;                         // "chosen", "excluded: ...", "finalize: ...", ...
  std::string describe() const;
  std::string identity() const;  // "engine 70 knobs{...}": the choice alone
};

inline constexpr const char* kNoEngine = "no engine";

class ConvPlan : public CachedPlan {
 public:
  // Never throws for want of an engine: found() says whether one passed the policy.
  ConvPlan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout = {});

  bool found() const { return found_; }
  const ConvLayout& layout() const { return layout_; }
  // Throws InternalError naming the problem and every candidate when no engine was found.
  void require() const;

  // Operands by role: x (or dx), w (or dw), y (or dy), and with a bias + ReLU epilogue the fp32 bias;
  // device pointers, 16-byte aligned. Runs on the Context's stream with alpha 1 and beta 0: the
  // output is overwritten, never read.
  void execute(Context& ctx, const void* x, const void* w, const void* y, const void* bias = nullptr) const;

  size_t workspace_bytes() const { return workspace_bytes_; }
  const EngineCandidate& chosen() const { return candidates_.at(chosen_); }
  const std::vector<EngineCandidate>& candidates() const { return candidates_; }
  // One line: the problem, the chosen engine, its knobs and notes, and how many were skipped.
  std::string describe() const override;
  std::string identity() const override { return found_ ? chosen().identity() : kNoEngine; }
  // Every candidate, one per line.
  std::string candidates_report() const;

 private:
  struct Proposed {
    std::string source;  // "A#0", "fallback#3"
    BackendDescriptor config;
  };
  // Walks the proposed configs in order (with `pin`: only the one whose identity it is), records
  // every candidate's verdict and takes the first that passes the policy and builds.
  // Builds the graph, asks the heuristics and walks their configs (with `pin`: its choice first).
  void choose(Context& ctx, const std::string& problem, const std::string* pin);
  bool walk(Context& ctx, std::vector<Proposed>& proposed, const std::vector<int>& excluded, const std::string* pin,
            std::string& log);
  bool try_candidate(Context& ctx, BackendDescriptor& config, BackendDescriptor& engine, EngineCandidate& cand,
                     std::string& log);

  ConvDirection dir_;
  ConvGeom geom_;
  ConvMath math_;
  ConvLayout layout_;
  // Kept alive together: the plan refers to the graph, its tensors and the chosen config.
  ConvGraph graph_;
  BackendDescriptor engine_, config_, plan_;
  std::vector<EngineCandidate> candidates_;
  std::string log_;  // what went unexpectedly while choosing (refused attributes, failed heuristics)
  size_t chosen_ = 0;
  bool found_ = false;
  std::string refusal_;  // why no engine was found: require()'s message
  size_t workspace_bytes_ = 0;
};

std::string conv_problem_key(ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout = {});

// The cached plan for the problem, built on first use (throws InternalError naming the problem and
// every candidate when no config passes the policy).
const ConvPlan& conv_plan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math = ConvMath::fp32,
                          ConvLayout layout = {});
// The same, where having no engine is an answer (a fused epilogue): null then, and the answer is
// cached and recorded like a choice.
const ConvPlan* try_conv_plan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout);
// Every fused problem in the Context's cache that no engine took, as its describe() line.
std::vector<std::string> refused_fused_problems(const Context& ctx);

}  // namespace thaw::cuda
