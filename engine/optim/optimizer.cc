#include "engine/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <type_traits>

#include "core/error.h"

namespace thaw {
namespace {

// Large parameters are cut into chunks of this many elements so that threads share them; every
// element's update is independent of every other, so the cut only affects speed, never bits.
constexpr int64_t kChunk = int64_t{1} << 15;
// Below this many elements in all, a parallel region costs more than it saves.
constexpr int64_t kParallelMin = int64_t{1} << 16;

struct WorkItem {
  size_t param;
  int64_t begin, end;
};

template <typename T>
std::vector<WorkItem> cut_work(const std::vector<ParamRef<T>>& params) {
  std::vector<WorkItem> items;
  for (size_t i = 0; i < params.size(); ++i) {
    for (int64_t b = 0; b < params[i].size; b += kChunk) {
      items.push_back({i, b, std::min(params[i].size, b + kChunk)});
    }
  }
  return items;
}

template <typename T>
int64_t total_size(const std::vector<ParamRef<T>>& params) {
  int64_t n = 0;
  for (const auto& p : params) n += p.size;
  return n;
}

template <typename F>
void run_items(const std::vector<WorkItem>& items, int64_t total, const F& body) {
  const int64_t n = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1) if (total >= kParallelMin)
  for (int64_t k = 0; k < n; ++k) body(items[static_cast<size_t>(k)]);
}

bool non_negative(double x) { return std::isfinite(x) && x >= 0; }

// A product rounded on its own, as PyTorch's separate mul_ rounds it before the next add. Written
// as an fma with -0 (which is exactly a*b, signed zeros included) so that the compiler, which by
// default contracts a*b+c into one fma, cannot fuse it with the addition that follows.
template <typename T>
T mul_rounded(T a, T b) {
  return std::fma(a, b, T(-0.0));
}

// Calls f with std::true_type or std::false_type, so that a loop-invariant choice becomes a
// compile-time one and the loop inside f has no branches left to keep it from vectorizing.
template <typename F>
void with_bool(bool b, const F& f) {
  if (b) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

// The loops below see only their arguments (scalars by value, pointers that do not alias), so
// that the compiler keeps the scalars in registers and vectorizes.
template <typename T>
struct SgdScalars {
  T wd, momentum, neg_lr;
};

template <typename T, bool kDecay, bool kMomentum, bool kFirst, bool kNesterov>
void sgd_range(const SgdScalars<T> k, T* __restrict p, const T* __restrict grad, T* __restrict buf, int64_t begin,
               int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    T g = grad[i];
    if constexpr (kDecay) g = std::fma(p[i], k.wd, g);
    if constexpr (kMomentum) {
      if constexpr (kFirst) {
        buf[i] = g;
      } else {
        buf[i] = mul_rounded(buf[i], k.momentum) + g;
      }
      if constexpr (kNesterov) {
        g = std::fma(buf[i], k.momentum, g);
      } else {
        g = buf[i];
      }
    }
    p[i] = std::fma(g, k.neg_lr, p[i]);
  }
}

template <typename T>
struct AdamWScalars {
  T keep, beta1, beta2, one_minus_beta1, one_minus_beta2, bc2_sqrt, eps, neg_step;
};

// std::sqrt keeps this loop scalar unless the file is built with -fno-math-errno: the errno
// path is a library call the vectorizer cannot take. With the flag it vectorizes (about 7x
// faster here) and gives the same bits, since sqrt is correctly rounded either way.
template <typename T, bool kDecay>
void adamw_range(const AdamWScalars<T> k, T* __restrict p, const T* __restrict grad, T* __restrict m,
                 T* __restrict v, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const T g = grad[i];
    T decayed = p[i];
    if constexpr (kDecay) decayed = mul_rounded(decayed, k.keep);
    m[i] = std::fma(g, k.one_minus_beta1, mul_rounded(m[i], k.beta1));
    v[i] = std::fma(k.one_minus_beta2 * g, g, mul_rounded(v[i], k.beta2));
    const T den = std::sqrt(v[i]) / k.bc2_sqrt + k.eps;
    p[i] = decayed + (k.neg_step * m[i]) / den;
  }
}

}  // namespace

OptimizerConfig::Kind parse_optimizer_kind(const std::string& name) {
  if (name == "sgd") return OptimizerConfig::Kind::Sgd;
  if (name == "adamw") return OptimizerConfig::Kind::AdamW;
  fail_user("--optimizer: expected sgd or adamw, got '", name, "'");
}

const char* optimizer_kind_name(OptimizerConfig::Kind kind) {
  return kind == OptimizerConfig::Kind::Sgd ? "sgd" : "adamw";
}

void validate_optimizer_config(const OptimizerConfig& c) {
  if (!non_negative(c.weight_decay)) {
    fail_user("--weight-decay: expected a finite value >= 0, got ", c.weight_decay);
  }
  if (c.kind == OptimizerConfig::Kind::Sgd) {
    if (!non_negative(c.momentum)) fail_user("--momentum: expected a finite value >= 0, got ", c.momentum);
    if (c.nesterov && c.momentum == 0) fail_user("--nesterov: needs --momentum > 0");
    return;
  }
  if (c.nesterov) fail_user("--nesterov: applies only to --optimizer sgd");
  if (!(c.beta1 >= 0 && c.beta1 < 1)) fail_user("--beta1: expected a value in [0, 1), got ", c.beta1);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) fail_user("--beta2: expected a value in [0, 1), got ", c.beta2);
  if (!non_negative(c.eps)) fail_user("--eps: expected a finite value >= 0, got ", c.eps);
}

template <typename T>
Optimizer<T>::Optimizer(const OptimizerConfig& config, std::vector<ParamRef<T>> params)
    : config_(config), params_(std::move(params)) {
  validate_optimizer_config(config_);
  std::set<std::string> names;
  for (const auto& p : params_) {
    THAW_CHECK(!p.name.empty(), "optimizer parameter without a name");
    THAW_CHECK(names.insert(p.name).second, "optimizer parameter '", p.name, "' given twice");
    THAW_CHECK(p.size >= 0, "optimizer parameter '", p.name, "' has size ", p.size);
    THAW_CHECK(p.size == 0 || (p.value && p.grad), "optimizer parameter '", p.name, "' has a null pointer");
  }
  const bool sgd = config_.kind == OptimizerConfig::Kind::Sgd;
  const bool has_a = !sgd || config_.momentum != 0;
  const bool has_b = !sgd;
  for (const auto& p : params_) {
    state_a_.emplace_back(has_a ? static_cast<size_t>(p.size) : 0, T{0});
    state_b_.emplace_back(has_b ? static_cast<size_t>(p.size) : 0, T{0});
  }
  if (!config_.lr_scale.empty()) {
    for (const auto& p : params_) {
      const auto it = config_.lr_scale.find(p.name);
      const double s = it == config_.lr_scale.end() ? 1.0 : it->second;
      THAW_CHECK(std::isfinite(s) && s > 0, "learning-rate scale ", s, " for '", p.name, "'");
      lr_scale_.push_back(s);
    }
  }
}

template <typename T>
void Optimizer<T>::set_step_count(int64_t count) {
  if (count < 0) fail_user("optimizer state: expected a step count >= 0, got ", count);
  step_count_ = count;
}

template <typename T>
void Optimizer<T>::step(double lr) {
  if (!non_negative(lr)) fail_user("--lr: expected a finite learning rate >= 0, got ", lr);
  if (config_.kind == OptimizerConfig::Kind::Sgd) {
    step_sgd(lr);
  } else {
    step_adamw(lr);
  }
}

template <typename T>
void Optimizer<T>::step_sgd(double lr) {
  const bool first = step_count_ == 0;
  ++step_count_;
  const SgdScalars<T> k{static_cast<T>(config_.weight_decay), static_cast<T>(config_.momentum),
                        static_cast<T>(-lr)};
  const bool use_wd = config_.weight_decay != 0;
  const bool use_momentum = config_.momentum != 0;
  const bool nesterov = config_.nesterov;
  run_items(cut_work(params_), total_size(params_), [&](const WorkItem& w) {
    const ParamRef<T>& pr = params_[w.param];
    T* buf = state_a_[w.param].data();
    const SgdScalars<T> kp{k.wd, k.momentum, static_cast<T>(-rate(lr, w.param))};
    with_bool(use_wd && pr.decay, [&](auto d) {
      with_bool(use_momentum, [&](auto m) {
        with_bool(first, [&](auto f) {
          with_bool(nesterov, [&](auto n) {
            sgd_range<T, d(), m(), f(), n()>(kp, pr.value, pr.grad, buf, w.begin, w.end);
          });
        });
      });
    });
  });
}

template <typename T>
void Optimizer<T>::step_adamw(double lr) {
  ++step_count_;
  // PyTorch computes these in Python floats (double) and rounds them to T at the tensor op.
  const double t = static_cast<double>(step_count_);
  const double bc1 = 1 - std::pow(config_.beta1, t);
  const double bc2 = 1 - std::pow(config_.beta2, t);
  const AdamWScalars<T> k{static_cast<T>(1 - lr * config_.weight_decay),
                          static_cast<T>(config_.beta1),
                          static_cast<T>(config_.beta2),
                          static_cast<T>(1 - config_.beta1),
                          static_cast<T>(1 - config_.beta2),
                          static_cast<T>(std::sqrt(bc2)),
                          static_cast<T>(config_.eps),
                          static_cast<T>(-(lr / bc1))};
  const bool use_wd = config_.weight_decay != 0;
  run_items(cut_work(params_), total_size(params_), [&](const WorkItem& w) {
    const ParamRef<T>& pr = params_[w.param];
    T* m = state_a_[w.param].data();
    T* v = state_b_[w.param].data();
    const double r = rate(lr, w.param);
    AdamWScalars<T> kp = k;
    kp.keep = static_cast<T>(1 - r * config_.weight_decay);
    kp.neg_step = static_cast<T>(-(r / bc1));
    with_bool(use_wd && pr.decay, [&](auto d) { adamw_range<T, d()>(kp, pr.value, pr.grad, m, v, w.begin, w.end); });
  });
}

template <typename T>
template <typename U, typename Self>
std::map<std::string, std::span<U>> Optimizer<T>::collect_state(Self& self) {
  std::map<std::string, std::span<U>> out;
  const bool sgd = self.config_.kind == OptimizerConfig::Kind::Sgd;
  for (size_t i = 0; i < self.params_.size(); ++i) {
    const std::string& n = self.params_[i].name;
    if (sgd) {
      if (self.config_.momentum != 0) out.emplace(n + ".momentum_buffer", std::span<U>(self.state_a_[i]));
    } else {
      out.emplace(n + ".exp_avg", std::span<U>(self.state_a_[i]));
      out.emplace(n + ".exp_avg_sq", std::span<U>(self.state_b_[i]));
    }
  }
  return out;
}

template <typename T>
std::map<std::string, std::span<T>> Optimizer<T>::state() {
  return collect_state<T>(*this);
}

template <typename T>
std::map<std::string, std::span<const T>> Optimizer<T>::state() const {
  return collect_state<const T>(*this);
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace thaw
