#include "kernels/cuda/conv2d.h"

#include "kernels/cuda/accumulate.h"
#include "kernels/cuda/context.h"

namespace thaw::cuda {

namespace {

ConvMath math_of(const Context& ctx) { return ctx.tf32() ? ConvMath::tf32 : ConvMath::fp32; }

// Runs `plan` writing its output into `out`, directly or through scratch when accumulating.
// `out_role` is where the output sits among the plan's (x, w, y) operands.
enum class Role { x, w, y };

void run_into(Context& ctx, const ConvPlan& plan, Role out_role, const void* x, const void* w, const void* y,
              float* out, int64_t out_count, OutputMode mode) {
  if (mode == OutputMode::overwrite) {
    plan.execute(ctx, x, w, y);
    return;
  }
  float* tmp = static_cast<float*>(ctx.scratch(static_cast<size_t>(out_count) * sizeof(float)));
  plan.execute(ctx, out_role == Role::x ? tmp : x, out_role == Role::w ? tmp : w, out_role == Role::y ? tmp : y);
  accumulate(ctx, out_count, tmp, out);
}

}  // namespace

void conv2d_forward(Context& ctx, const ConvGeom& g, const float* x, const float* w, float* y) {
  conv_plan(ctx, ConvDirection::forward, g, math_of(ctx)).execute(ctx, x, w, y);
}

void conv2d_backward_data(Context& ctx, const ConvGeom& g, const float* dy, const float* w, float* dx,
                          OutputMode mode) {
  const ConvPlan& plan = conv_plan(ctx, ConvDirection::backward_data, g, math_of(ctx));
  run_into(ctx, plan, Role::x, dx, w, dy, dx, g.x_size(), mode);
}

void conv2d_backward_weight(Context& ctx, const ConvGeom& g, const float* x, const float* dy, float* dw,
                            OutputMode mode) {
  const ConvPlan& plan = conv_plan(ctx, ConvDirection::backward_weight, g, math_of(ctx));
  run_into(ctx, plan, Role::w, x, dw, dy, dw, g.w_size(), mode);
}

std::string conv2d_plan_report(Context& ctx, ConvDirection dir, const ConvGeom& g) {
  return conv_plan(ctx, dir, g, math_of(ctx)).describe();
}

}  // namespace thaw::cuda
