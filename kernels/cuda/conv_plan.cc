#include "kernels/cuda/conv_plan.h"

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"

namespace thaw::cuda {

namespace {

// A config sets each knob type at most once: the request size cuDNN's own frontend uses.
constexpr int64_t kMaxKnobs = CUDNN_KNOB_TYPE_COUNTS;

std::vector<int> excluded_notes(ConvMath math, bool bias_relu) {
  std::vector<int> v = {CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC, CUDNN_NUMERICAL_NOTE_FFT,
                        CUDNN_NUMERICAL_NOTE_WINOGRAD,         CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4,
                        CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6, CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13,
                        CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS, CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION};
  if (math == ConvMath::fp32) v.push_back(CUDNN_NUMERICAL_NOTE_TENSOR_CORE);
  // Our bias + ReLU kernel maps NaN to 0; an engine that propagates it would make the fused and the
  // separate paths differ where a NaN arrives.
  if (bias_relu) v.push_back(CUDNN_NUMERICAL_NOTE_STRICT_NAN_PROP);
  return v;
}


// The configs one heuristic mode proposes, best first. A mode that cannot answer for this graph
// gives an empty list and a note in `log`.
std::vector<BackendDescriptor> heuristic_configs(const BackendDescriptor& graph, cudnnBackendHeurMode_t mode,
                                                 std::string& log) {
  std::vector<BackendDescriptor> configs;
  BackendDescriptor heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  heur.set_desc(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph, "CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH");
  heur.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "CUDNN_ATTR_ENGINEHEUR_MODE");
  const cudnnStatus_t st = heur.try_finalize();
  if (st != CUDNN_STATUS_SUCCESS) {
    log += cat_str(" heuristic mode ", static_cast<int>(mode), " unavailable (", cudnnGetErrorString(st), ": ",
                   cudnn_last_error(), ");");
    return configs;
  }
  int64_t count = 0;
  THAW_CUDNN_CHECK_CTX(
      cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                               nullptr),
      "CUDNN_ATTR_ENGINEHEUR_RESULTS count");
  if (count <= 0) return configs;
  for (int64_t i = 0; i < count; ++i) configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
  std::vector<cudnnBackendDescriptor_t> raw;
  for (const auto& c : configs) raw.push_back(c.get());
  int64_t returned = 0;
  THAW_CUDNN_CHECK_CTX(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned, raw.data()),
                       "CUDNN_ATTR_ENGINEHEUR_RESULTS");
  configs.resize(static_cast<size_t>(std::clamp<int64_t>(returned, 0, count)));
  return configs;
}

std::vector<std::pair<int, int64_t>> read_knobs(const BackendDescriptor& config) {
  std::vector<BackendDescriptor> choices;
  for (int64_t i = 0; i < kMaxKnobs; ++i) choices.emplace_back(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR);
  std::vector<cudnnBackendDescriptor_t> raw;
  for (const auto& c : choices) raw.push_back(c.get());
  int64_t count = 0;
  THAW_CUDNN_CHECK_CTX(cudnnBackendGetAttribute(config.get(), CUDNN_ATTR_ENGINECFG_KNOB_CHOICES,
                                                CUDNN_TYPE_BACKEND_DESCRIPTOR, kMaxKnobs, &count, raw.data()),
                       "CUDNN_ATTR_ENGINECFG_KNOB_CHOICES");
  std::vector<std::pair<int, int64_t>> knobs;
  for (int64_t i = 0; i < count && i < kMaxKnobs; ++i) {
    cudnnBackendKnobType_t type{};
    int64_t n = 0, value = 0;
    THAW_CUDNN_CHECK_CTX(
        cudnnBackendGetAttribute(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &n, &type),
        "CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE");
    THAW_CUDNN_CHECK_CTX(
        cudnnBackendGetAttribute(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &n, &value),
        "CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE");
    knobs.emplace_back(static_cast<int>(type), value);
  }
  return knobs;
}

std::string geom_str(const ConvGeom& g) {
  return cat_str("n", g.n, " c", g.c_in, " ", g.h_in, "x", g.w_in, " -> k", g.c_out, " ", g.kh, "x", g.kw, " s",
                 g.sh, "x", g.sw, " p", g.ph, "x", g.pw, " out ", g.h_out(), "x", g.w_out());
}

}  // namespace

const char* direction_name(ConvDirection d) {
  switch (d) {
    case ConvDirection::forward: return "fwd";
    case ConvDirection::backward_data: return "dgrad";
    case ConvDirection::backward_weight: return "wgrad";
  }
  return "?";
}

const char* math_name(ConvMath m) {
  switch (m) {
    case ConvMath::fp32: return "fp32";
    case ConvMath::tf32: return "tf32";
    case ConvMath::bf16: return "bf16";
  }
  return "?";
}

std::string EngineCandidate::identity() const {
  std::string s = cat_str("engine ", global_index, " knobs{");
  for (size_t i = 0; i < knobs.size(); ++i) s += cat_str(i ? "," : "", knob_name(knobs[i].first), "=", knobs[i].second);
  return s + "}";
}

std::string EngineCandidate::describe() const {
  std::string s = cat_str(source, " engine ", global_index, " knobs{");
  for (size_t i = 0; i < knobs.size(); ++i) s += cat_str(i ? "," : "", knob_name(knobs[i].first), "=", knobs[i].second);
  s += "} notes{";
  for (size_t i = 0; i < numerical_notes.size(); ++i) s += cat_str(i ? "," : "", numerical_note_name(numerical_notes[i]));
  s += "} behavior{";
  for (size_t i = 0; i < behavior_notes.size(); ++i) s += cat_str(i ? "," : "", behavior_note_name(behavior_notes[i]));
  s += "}";
  if (workspace_bytes >= 0) s += cat_str(" ws ", workspace_bytes, "B");
  return s + ": " + verdict;
}

std::string conv_problem_key(ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout) {
  std::string key =
      cat_str("conv ", direction_name(dir), " ", math_name(math), layout.nhwc ? " nhwc " : " nchw ", geom_str(g));
  if (layout.y_channels > 0) key += cat_str(" y-channels ", layout.y_channels);
  return layout.bias_relu ? key + " +bias-relu" : key;
}

ConvPlan::ConvPlan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout)
    : dir_(dir), geom_(g), math_(math), layout_(layout) {
  const std::string problem = conv_problem_key(dir, g, math, layout);
  THAW_CHECK(g.n >= 1 && g.c_in >= 1 && g.c_out >= 1 && g.kh >= 1 && g.kw >= 1 && g.sh >= 1 && g.sw >= 1 &&
                 g.ph >= 0 && g.pw >= 0 && g.h_out() >= 1 && g.w_out() >= 1,
             "invalid convolution ", problem);
  // A replay whose record had no engine for a fused problem runs it apart, whatever is offered now.
  const std::string* pin = ctx.pin(problem);
  if (pin && *pin == kNoEngine) {
    refusal_ = cat_str("the recorded run had no engine for ", problem);
    return;
  }
  if (!layout.bias_relu) {
    choose(ctx, problem, pin);
    return;
  }
  // A fused problem that cannot be built or chosen at all is an answer too: the ops run apart.
  try {
    choose(ctx, problem, pin);
  } catch (const InternalError& e) {
    found_ = false;
    refusal_ = cat_str("building the fused plan for ", problem, " failed: ", e.what());
    log_ += cat_str(" ", refusal_, ";");
  }
}

void ConvPlan::choose(Context& ctx, const std::string& problem, const std::string* pin) {
  std::string heur_log;
  graph_ = build_conv_graph(dir_, geom_, math_, layout_, ctx.cudnn(), heur_log);

  const std::vector<int> excluded = excluded_notes(math_, layout_.bias_relu);
  std::vector<Proposed> proposed;
  for (const auto& [mode, name] : {std::pair{CUDNN_HEUR_MODE_A, "A"}, std::pair{CUDNN_HEUR_MODE_FALLBACK, "fallback"}}) {
    std::vector<BackendDescriptor> configs;
    try {
      configs = heuristic_configs(graph_.graph, mode, heur_log);
    } catch (const InternalError& e) {
      heur_log += cat_str(" heuristic mode ", name, " failed: ", e.what(), ";");
    }
    for (size_t rank = 0; rank < configs.size(); ++rank) proposed.push_back({cat_str(name, "#", rank), std::move(configs[rank])});
  }
  // A replay's pin first: the recorded choice, if the library still offers it and it still builds.
  bool found = false;
  if (pin) {
    found = walk(ctx, proposed, excluded, pin, heur_log);
    if (!found) {
      heur_log += cat_str(" the recorded ", *pin, " is not available;");
      ctx.pin_missed(problem);
      candidates_.clear();
    }
  }
  if (!found) found = walk(ctx, proposed, excluded, nullptr, heur_log);
  log_ = heur_log;
  found_ = found;
  if (!found) {
    std::string excluded_names;
    for (int note : excluded) excluded_names += cat_str(excluded_names.empty() ? "" : ",", numerical_note_name(note));
    refusal_ = cat_str("no cuDNN engine passes the policy for ", problem, " (excluded notes ", excluded_names,
                       ", workspace limit ", ctx.workspace_limit(), "B);", heur_log, " candidates:\n", candidates_report());
  }
}

void ConvPlan::require() const {
  if (!found_) fail_internal(refusal_);
}

bool ConvPlan::walk(Context& ctx, std::vector<Proposed>& proposed, const std::vector<int>& excluded,
                    const std::string* pin, std::string& log) {
  bool found = false;
  for (Proposed& p : proposed) {
    EngineCandidate cand;
    cand.source = p.source;
    BackendDescriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
    try {
      p.config.get_desc(CUDNN_ATTR_ENGINECFG_ENGINE, engine, "CUDNN_ATTR_ENGINECFG_ENGINE");
      cand.global_index = engine.get_int64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX, "CUDNN_ATTR_ENGINE_GLOBAL_INDEX");
      cand.numerical_notes = engine_numerical_notes(engine);
    } catch (const InternalError& e) {
      // Without its numerical notes a config cannot be shown to be deterministic: never use it.
      cand.verdict = cat_str("skipped, engine or notes unreadable: ", e.what());
      candidates_.push_back(std::move(cand));
      continue;
    }
    // Behavior notes and knobs only describe the choice: a failure to read them is recorded.
    try {
      cand.behavior_notes = engine_behavior_notes(engine);
    } catch (const InternalError&) {
      log += cat_str(" ", cand.source, " behavior notes unreadable;");
    }
    try {
      cand.knobs = read_knobs(p.config);
    } catch (const InternalError&) {
      log += cat_str(" ", cand.source, " knobs unreadable;");
    }
    const bool duplicate = std::any_of(candidates_.begin(), candidates_.end(), [&](const EngineCandidate& c) {
      return c.global_index == cand.global_index && c.knobs == cand.knobs;
    });
    std::string bad_notes;
    for (int note : cand.numerical_notes) {
      if (std::find(excluded.begin(), excluded.end(), note) != excluded.end()) {
        bad_notes += cat_str(bad_notes.empty() ? "" : ",", numerical_note_name(note));
      }
    }
    if (duplicate) {
      cand.verdict = "duplicate of an earlier candidate";
    } else if (!bad_notes.empty()) {
      cand.verdict = cat_str("excluded: ", bad_notes);
    } else if (pin && cand.identity() != *pin) {
      cand.verdict = "not the recorded choice";
    } else if (found) {
      cand.verdict = "eligible, not tried (an earlier one was chosen)";
    } else {
      found = try_candidate(ctx, p.config, engine, cand, log);
    }
    candidates_.push_back(std::move(cand));
  }
  return found;
}

bool ConvPlan::try_candidate(Context& ctx, BackendDescriptor& config, BackendDescriptor& engine, EngineCandidate& cand,
                             std::string& log) {
  BackendDescriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
  set_handle_attribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, ctx.cudnn(), "plan handle", log);
  plan.set_desc(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, config, "CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG");
  const cudnnStatus_t st = plan.try_finalize();
  if (st != CUDNN_STATUS_SUCCESS) {
    // NOT_SUPPORTED is the normal answer of an engine that cannot take this problem.
    cand.verdict = cat_str("plan finalize ", cudnnGetErrorString(st), " (", cudnn_status_category(st), ")");
    const std::string why = cudnn_last_error();
    if (!why.empty()) cand.verdict += cat_str(": ", why);
    return false;
  }
  cand.workspace_bytes = plan.get_int64(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, "CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE");
  if (cand.workspace_bytes < 0 || static_cast<size_t>(cand.workspace_bytes) > ctx.workspace_limit()) {
    cand.verdict = cat_str("workspace over the limit of ", ctx.workspace_limit(), "B");
    return false;
  }
  cand.verdict = "chosen";
  chosen_ = candidates_.size();
  workspace_bytes_ = static_cast<size_t>(cand.workspace_bytes);
  engine_ = std::move(engine);
  config_ = std::move(config);
  plan_ = std::move(plan);
  return true;
}

void ConvPlan::execute(Context& ctx, const void* x, const void* w, const void* y, const void* bias) const {
  require();
  THAW_CHECK((bias != nullptr) == layout_.bias_relu, "conv ", direction_name(dir_), ": a bias ",
             layout_.bias_relu ? "is needed" : "was given", " for ", conv_problem_key(dir_, geom_, math_, layout_));
  const int64_t n = layout_.bias_relu ? 4 : 3;
  for (const void* p : {x, w, y, n == 4 ? bias : x}) {
    THAW_CHECK(p != nullptr && reinterpret_cast<uintptr_t>(p) % kConvAlignment == 0, "conv ", direction_name(dir_),
               ": operand pointer ", p, " is null or not ", kConvAlignment, "-byte aligned");
  }
  void* ws = ctx.workspace(workspace_bytes_);
  int64_t uids[4] = {kConvUidX, kConvUidW, kConvUidY, kConvUidBias};
  void* ptrs[4] = {const_cast<void*>(x), const_cast<void*>(w), const_cast<void*>(y), const_cast<void*>(bias)};
  BackendDescriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids, "CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS");
  pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs, "CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS");
  pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws, "CUDNN_ATTR_VARIANT_PACK_WORKSPACE");
  pack.finalize("variant pack");
  // The plan's description only for an error: every convolution of every step passes here.
  const cudnnStatus_t st = cudnnBackendExecute(ctx.cudnn(), plan_.get(), pack.get());
  if (st != CUDNN_STATUS_SUCCESS) check_cudnn(st, "cudnnBackendExecute", __FILE__, __LINE__, describe());
}

std::string ConvPlan::describe() const {
  size_t excluded = 0, failed = 0;
  for (const auto& c : candidates_) {
    if (c.verdict.rfind("excluded", 0) == 0) ++excluded;
    if (c.verdict.rfind("plan finalize", 0) == 0) ++failed;
  }
  if (!found_) {
    // Why, in the line a run record and the bench's JSON row keep.
    return cat_str(conv_problem_key(dir_, geom_, math_, layout_), ": ", kNoEngine, " [", candidates_.size(),
                   " candidates, ", excluded, " excluded by notes, ", failed, " not supported]; run apart;", log_);
  }
  return cat_str(conv_problem_key(dir_, geom_, math_, layout_), ": ", chosen().describe(), " [", candidates_.size(),
                 " candidates, ", excluded, " excluded by notes, ", failed, " not supported]");
}

std::string ConvPlan::candidates_report() const {
  std::string s = log_.empty() ? "" : "  notes:" + log_ + "\n";
  for (const auto& c : candidates_) s += "  " + c.describe() + "\n";
  return s;
}

const ConvPlan* try_conv_plan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout) {
  const std::string key = conv_problem_key(dir, g, math, layout);
  CachedPlan* p = ctx.plans().find(key);
  if (!p) p = ctx.plans().insert(key, std::make_unique<ConvPlan>(ctx, dir, g, math, layout));
  const auto* plan = dynamic_cast<const ConvPlan*>(p);
  THAW_CHECK(plan != nullptr, "plan cache entry '", key, "' is not a convolution plan");
  return plan->found() ? plan : nullptr;
}

std::vector<std::string> refused_fused_problems(const Context& ctx) {
  std::vector<std::string> out;
  ctx.plans().for_each([&](const std::string&, const CachedPlan& p) {
    const auto* plan = dynamic_cast<const ConvPlan*>(&p);
    if (plan && plan->layout().bias_relu && !plan->found()) out.push_back(plan->describe());
  });
  return out;
}

const ConvPlan& conv_plan(Context& ctx, ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout) {
  const std::string key = conv_problem_key(dir, g, math, layout);
  if (CachedPlan* p = ctx.plans().find(key)) {
    const auto* plan = dynamic_cast<const ConvPlan*>(p);
    THAW_CHECK(plan != nullptr, "plan cache entry '", key, "' is not a convolution plan");
    plan->require();
    return *plan;
  }
  // A problem without an engine is an error here: it is not cached, so no record names it.
  auto built = std::make_unique<ConvPlan>(ctx, dir, g, math, layout);
  built->require();
  return *static_cast<const ConvPlan*>(ctx.plans().insert(key, std::move(built)));
}

}  // namespace thaw::cuda
