#pragma once
// Every CUDA-vs-CPU tolerance of the parity tests, as formulas, in one place. An element passes when
//   |gpu - cpu| <= rtol * |cpu| + atol
// and NaN never passes. Each test names its rule, and every comparison prints the worst ratio of
// error to allowance, so a tolerance that is far too loose shows up in the device logs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace thaw::cuda_test {

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
  std::string rule;  // which formula and why, for messages
};

// 2^-23, the spacing of floats in [1, 2).
constexpr double kFloatEps = 1.1920928955078125e-07;

// Bit-identical. For kernels that perform the same float operations in the same order as the CPU
// twin: selections (ReLU, max pool and its gradient routing, added in output order), copies
// (concat), one product (dropout forward) and one add of the same float (global average pool
// backward).
inline Tolerance exact() { return {0.0, 0.0, "exact (same float operations in the same order)"}; }

// A handful of float roundings per element, where the two sides may differ in operation order or
// in fusing a multiply-add (nvcc contracts to FMA; the host compiler may or may not), and where
// per-channel statistics summed in double in different orders may round to neighbouring floats
// (batch norm, pools, softmax and its gradient, bias gradients).
// Each rounding is within half an ulp of the largest intermediate, which is bounded by `scale`
// (the largest |value| of the reference output, or of the operands when they are larger):
//   rtol = 4 eps, atol = 8 eps * scale.
inline Tolerance elementwise(double scale) {
  return {4 * kFloatEps, 8 * kFloatEps * scale, "elementwise: rtol 4 eps, atol 8 eps * scale"};
}

// A float dot product of length k (GEMM, convolution) summed in different orders on the two sides
// (cuDNN/cuBLAS tiles vs Eigen's blocking), each term |a_i b_i| <= max_term. A sequential float sum
// of k zero-mean terms of rms t errs by about 0.35 eps t k (rms, the partial sums growing like
// sqrt(i) t); the inputs are uniform in [-1, 1), so t <= max_term / 3 and eps * k * max_term
// would be about 8 standard deviations of one side's error if the terms were zero-mean. Weight
// gradients break that assumption (x * dy products over a padded map are correlated, and the
// partial sums drift): on an H200 (2026-11-27) the 3x3 64->96 wgrad at 35x35 (k = 2450) reached
// 1.45 x eps * k * max|term| for one element of 55,296. Both sides round, so the bound is doubled:
//   atol = 2 eps * k * max_term,  rtol = 1e-5.
// An indexing or layout bug shows up as an error of order max_term * sqrt(k), far above this.
inline Tolerance float_dot(int64_t k, double max_term) {
  return {1e-5, 2 * kFloatEps * static_cast<double>(k) * max_term,
          "float dot product: rtol 1e-5, atol 2 eps * k * max|term| (k = " + std::to_string(k) + ")"};
}

// bf16 storage (engine/model/mixed_precision.h): both sides compute in fp32 and round the result to
// bf16 once. Where the fp32 results differ in their last bits (another summation order), the two
// roundings may land on neighbouring bf16 values, one bf16 ulp apart: at most 2^-7 of the value.
// atol covers results that cancel to near zero: the fp32 difference itself, allowed up to
// `fp32_atol` (the op's own fp32 rule, elementwise() or float_dot()).
inline Tolerance bf16_store(double fp32_atol) {
  return {0x1p-7, fp32_atol + 1e-30, "bf16 store: rtol 2^-7 (one bf16 ulp), atol the op's fp32 allowance"};
}

// The whole network (tests/cuda/network_parity_test.cc). Through ~150 convolutions, batch norms in
// training mode and the backward pass, per-op bounds compound into nothing useful, so the test
// measures the compounding instead: it runs the CPU executor in float and in double from the same
// state, and for each tensor takes the CPU's float-vs-double spread
//   S = max over the tensor of |cpu_float - cpu_double|,
// floored at one float ulp of the tensor's scale (eps * max|cpu_double|) so that a tensor the CPU
// happened to get exact still allows rounding. The GPU, another float implementation of the same
// network, must land as close to the double run, within a factor F:
//   |gpu - cpu_double| <= F * max(S, eps * max|cpu_double|) + 4 eps |cpu_double|,   F = 32.
// Why 32: on the CPU (2026-11-27, 299, batch 2), float runs from weights moved by one ulp (a stand-in
// for a different summation order) landed at 0.3 .. 4.1 x S over 329 tensors x 3 perturbations each
// (median 1.2, 90th percentile 1.7) wherever no discrete choice flipped (below); 32 leaves room for
// cuDNN's and cuBLASLt's own orders, whose per-op errors reach the float_dot bound above where the
// CPU's may stay well under it. The test state keeps every trainable ReLU input about 5 standard
// deviations from zero (batch-norm betas of +-5), so S is about 1e-5 of a tensor's scale and F * S
// still exposes any wiring error, which moves a gradient by its own size.
inline Tolerance network_spread(double spread, double ref_scale, double factor = 32) {
  const double s = std::max(spread, kFloatEps * ref_scale);
  char rule[160];
  std::snprintf(rule, sizeof rule,
                "network: |gpu - cpu_double| <= %g x max(cpu float spread %.3g, eps x scale %.3g) + 4 eps |ref|",
                factor, spread, kFloatEps * ref_scale);
  return {4 * kFloatEps, factor * s, rule};
}

// Discrete choices break the rule above: a max pool whose two best values are within rounding of
// each other may pick either, and the gradient of everything before it then moves by a whole term
// of a sum (up to 8% of a weight gradient's scale for one choice at 8x8, measured on the CPU). The
// +-5 betas make ReLU flips practically impossible, but not max-pool near-ties: at 299, batch 2, the
// CPU saw about one per run. So the test compares the GPU's choices with the double run's, proves
// each difference is a near-tie, and checks the gradients of the nodes before the last differing
// choice with this coarse rule only (a sign error or a missing or doubled term still fails it):
//   |gpu - cpu_double| <= F * max(S, eps * scale) + scale / 2,   scale = max|cpu_double|.
inline Tolerance network_after_flip(double spread, double ref_scale, double factor = 32) {
  Tolerance t = network_spread(spread, ref_scale, factor);
  t.atol += 0.5 * ref_scale;
  t.rule = "after a max-pool near-tie or ReLU flip: " + t.rule + " + scale / 2";
  return t;
}

// A few whole training steps, GPU against the CPU TrainStep from the same weights
// (tests/cuda/cuda_train_step_test.cc). Each step's gradient agrees to the network rule above
// (at most F x S, about 3e-4 of a tensor's scale with the test's +-5 betas), and the update is a
// smooth function of it (SGD: linear; AdamW: the test uses eps = 0.1, so that g / (|g| + eps) has
// no sign flip for a near-zero gradient), so over three steps a tensor's change from its initial
// value agrees to a few 1e-4 of that change's own scale. The allowance is 1e-2 of it: a wiring
// error (a shard missed or counted twice, the 1/V scale missing, a wrong optimizer term) moves the
// change by a large fraction of itself. Plus the roundings of the value itself:
//   |gpu - cpu| <= 1e-2 x max|cpu - initial| + 8 eps x max|cpu| + 4 eps |cpu|.
// Measured on the CPU (2026-11-27, the test's setup at 139 px): the same three steps from weights
// moved by one ulp (a stand-in for another summation order) stayed within 0.08 of this allowance
// for every state tensor, V = 1 and 2, SGD and AdamW.
inline Tolerance training_steps(double change_scale, double value_scale) {
  return {4 * kFloatEps, 1e-2 * change_scale + 8 * kFloatEps * value_scale,
          "training steps: |gpu - cpu| <= 1e-2 x max|change| + 8 eps x scale + 4 eps |cpu|"};
}

// The optimizer's state after those steps (momentum buffers, AdamW's averages) against the CPU's.
// Some gradients are pure rounding noise: a batch norm's beta whose shift the next training-mode
// batch norm removes again gets a gradient of about 1e-8 where others get 1e-3, and two
// implementations agree on noise only in its size. So besides the training_steps allowance on the
// tensor's own scale, a floor of 1e-4 of the largest state of the same kind over all tensors:
//   |gpu - cpu| <= 1e-2 x max|cpu| + 1e-4 x max over tensors|cpu| + 4 eps |cpu|.
// The one-ulp stand-in above differed on such noise tensors by 2.6x their own largest value, and
// stayed within 0.003 of this allowance everywhere.
inline Tolerance optimizer_state(double own_scale, double kind_scale) {
  return {4 * kFloatEps, 1e-2 * own_scale + 1e-4 * kind_scale,
          "optimizer state: |gpu - cpu| <= 1e-2 x max|cpu| + 1e-4 x max over tensors + 4 eps |cpu|"};
}

// The mean loss of a training step: both sides in double from logits that agree to the network
// rule; a wrong shard, label offset or 1/V moves it by a large fraction of itself.
inline Tolerance training_loss() { return {1e-3, 1e-3, "training loss: rtol 1e-3, atol 1e-3"}; }

// A scalar both sides compute in double (the loss): only libm-level differences in exp/log and the
// summation order of double sums remain.
inline Tolerance double_scalar() { return {1e-10, 0.0, "double scalar: rtol 1e-10"}; }

}  // namespace thaw::cuda_test
