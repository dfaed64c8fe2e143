#include "kernels/cuda/conv2d.h"

#include <type_traits>

#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/context.h"

namespace thaw::cuda {

namespace {

ConvMath math_of(const Context& ctx) { return ctx.tf32() ? ConvMath::tf32 : ConvMath::fp32; }

template <typename S>
ConvMath math_for(const Context& ctx) {
  if constexpr (std::is_same_v<S, bf16>) {
    return ConvMath::bf16;
  } else {
    return math_of(ctx);
  }
}

// Runs `plan` writing its output into `out`, directly or through scratch when accumulating.
// `out_role` is where the output sits among the plan's (x, w, y) operands.
enum class Role { x, w, y };

template <typename S>
void run_into(Context& ctx, const ConvPlan& plan, Role out_role, const void* x, const void* w, const void* y, S* out,
              int64_t out_count, OutputMode mode) {
  if (mode == OutputMode::overwrite) {
    plan.execute(ctx, x, w, y);
    return;
  }
  S* tmp = static_cast<S*>(ctx.scratch(static_cast<size_t>(out_count) * sizeof(S)));
  plan.execute(ctx, out_role == Role::x ? tmp : x, out_role == Role::w ? tmp : w, out_role == Role::y ? tmp : y);
  accumulate(ctx, out_count, tmp, out);
}

}  // namespace

template <typename S>
void conv2d_forward(Context& ctx, const ConvGeom& g, const S* x, const S* w, S* y, ConvLayout layout) {
  conv_plan(ctx, ConvDirection::forward, g, math_for<S>(ctx), layout).execute(ctx, x, w, y);
}

template <typename S>
bool conv2d_forward_bias_relu(Context& ctx, const ConvGeom& g, const S* x, const S* w, const float* bias, S* y,
                              ConvLayout layout) {
  layout.bias_relu = true;
  const ConvPlan* plan = try_conv_plan(ctx, ConvDirection::forward, g, math_for<S>(ctx), layout);
  if (!plan) return false;
  plan->execute(ctx, x, w, y, bias);
  return true;
}

template <typename S>
void conv2d_backward_data(Context& ctx, const ConvGeom& g, const S* dy, const S* w, S* dx, OutputMode mode,
                          bool nhwc) {
  const ConvPlan& plan = conv_plan(ctx, ConvDirection::backward_data, g, math_for<S>(ctx), ConvLayout{nhwc});
  run_into(ctx, plan, Role::x, dx, w, dy, dx, g.x_size(), mode);
}

template <typename S>
void conv2d_backward_weight(Context& ctx, const ConvGeom& g, const S* x, const S* dy, S* dw, OutputMode mode,
                            bool nhwc) {
  const ConvPlan& plan = conv_plan(ctx, ConvDirection::backward_weight, g, math_for<S>(ctx), ConvLayout{nhwc});
  run_into(ctx, plan, Role::w, x, dw, dy, dw, g.w_size(), mode);
}

#define THAW_CONV2D(S)                                                                                  \
  template void conv2d_forward<S>(Context&, const ConvGeom&, const S*, const S*, S*, ConvLayout);      \
  template bool conv2d_forward_bias_relu<S>(Context&, const ConvGeom&, const S*, const S*, const float*, S*, \
                                            ConvLayout);                                                   \
  template void conv2d_backward_data<S>(Context&, const ConvGeom&, const S*, const S*, S*, OutputMode, bool); \
  template void conv2d_backward_weight<S>(Context&, const ConvGeom&, const S*, const S*, S*, OutputMode, bool);
THAW_FOR_STORAGE_TYPES(THAW_CONV2D)

std::string conv2d_plan_report(Context& ctx, ConvDirection dir, const ConvGeom& g) {
  return conv_plan(ctx, dir, g, math_of(ctx)).describe();
}

}  // namespace thaw::cuda
