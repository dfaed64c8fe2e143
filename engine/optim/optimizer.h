#pragma once
// SGD and AdamW with PyTorch's semantics (torch.optim, single-tensor path, foreach=False), on host
// parameters in float or double.
//
// Update rules, per element, all arithmetic in T with every scalar factor computed in double first
// and then rounded to T, as PyTorch does when it hands Python floats to a tensor op. fma(a, b, c) is
// a*b+c rounded once: PyTorch's x86 CPU kernels fuse `add_(x, alpha=a)` into fma(x, a, self) and
// `addcmul_` into fma(value*t1, t2, self), and so do we, explicitly; every other product is rounded
// before it is added. So the bits agree with PyTorch's and do not depend on the compiler.
//
//   SGD (momentum mu, dampening 0, weight decay wd coupled as L2):
//     g   = fma(p, wd, grad)                   (only where the param decays and wd != 0)
//     buf = g on the first step, else buf = (buf * mu) + g     (no buffer when mu == 0: d = g)
//     d   = nesterov ? fma(buf, mu, g) : buf
//     p   = fma(d, -lr, p)
//
//   AdamW (decoupled weight decay), t = the step count after this step's increment:
//     p   = p * (1 - lr * wd)                  (only where the param decays)
//     m1  = fma(g, 1 - b1, m1 * b1)
//     m2  = fma((1 - b2) * g, g, m2 * b2)
//     den = sqrt(m2) / sqrt(1 - b2^t) + eps
//     p   = p + ((-lr / (1 - b1^t)) * m1) / den
//
// The optimizer owns its state, allocated only for the parameters it is given (frozen ones never
// are). State tensors are named "<param>.momentum_buffer" (SGD with momentum > 0), "<param>.exp_avg"
// and "<param>.exp_avg_sq" (AdamW); with step_count() they are everything a checkpoint must hold for
// a resumed run to continue bit for bit. Every element is updated independently, so the bits do not
// depend on the thread count.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/model/param_ref.h"

namespace thaw {

struct OptimizerConfig {
  enum class Kind { Sgd, AdamW };
  Kind kind = Kind::Sgd;
  double momentum = 0.9;  // SGD only
  bool nesterov = false;  // SGD only; needs momentum > 0
  double weight_decay = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // AdamW only
  // Per-parameter multipliers of the step's learning rate, by parameter name (timm's layer decay,
  // engine/optim/layer_decay.h); a parameter not named here has 1. Each rate is lr x scale in
  // double, rounded to T where it is used, as PyTorch's parameter groups hold it.
  std::map<std::string, double> lr_scale;
};

// "sgd" or "adamw"; anything else is a UserError naming --optimizer.
OptimizerConfig::Kind parse_optimizer_kind(const std::string& name);
const char* optimizer_kind_name(OptimizerConfig::Kind kind);

// Throws UserError naming the offending flag (--momentum, --nesterov, --weight-decay, --beta1,
// --beta2, --eps).
void validate_optimizer_config(const OptimizerConfig& config);

template <typename T>
class Optimizer {
 public:
  // Validates the config; parameter names must be unique and non-empty, pointers non-null.
  Optimizer(const OptimizerConfig& config, std::vector<ParamRef<T>> params);

  // One update of every parameter from its current gradient. lr < 0 (or NaN) is a UserError
  // naming --lr.
  void step(double lr);

  // Number of completed steps (PyTorch's state["step"]); SGD uses it to know its first step.
  int64_t step_count() const { return step_count_; }
  // For restoring a checkpoint, together with writing into state(). Negative is a UserError.
  void set_step_count(int64_t count);

  // Every state tensor by name, sorted by name; the spans alias the optimizer's storage, so a
  // checkpoint loader restores by copying into them.
  std::map<std::string, std::span<T>> state();
  std::map<std::string, std::span<const T>> state() const;

  const OptimizerConfig& config() const { return config_; }
  const std::vector<ParamRef<T>>& params() const { return params_; }

 private:
  double rate(double lr, size_t param) const { return lr_scale_.empty() ? lr : lr * lr_scale_[param]; }
  void step_sgd(double lr);
  void step_adamw(double lr);
  template <typename U, typename Self>
  static std::map<std::string, std::span<U>> collect_state(Self& self);

  OptimizerConfig config_;
  std::vector<ParamRef<T>> params_;
  // Parallel to params_: SGD uses slot a as the momentum buffer (empty when momentum == 0);
  // AdamW uses a as exp_avg and b as exp_avg_sq.
  std::vector<std::vector<T>> state_a_;
  std::vector<std::vector<T>> state_b_;
  std::vector<double> lr_scale_;  // parallel to params_; empty: all 1
  int64_t step_count_ = 0;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace thaw
