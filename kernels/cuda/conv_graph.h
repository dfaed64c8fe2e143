#pragma once
// The cuDNN operation graph of one convolution problem (CUDNN.md, "The call sequence"): its operand
// tensors, the convolution descriptor and operation, and for a frozen layer's forward with a bias +
// ReLU epilogue the two pointwise operations after it, joined through virtual fp32 tensors. Kept
// apart from the plan (conv_plan.h) so that its shape can be built and checked without a device.
#include <cudnn.h>

#include <cstdint>
#include <string>

#include "kernels/cuda/cudnn_backend.h"
#include "kernels/geometry.h"

namespace thaw::cuda {

enum class ConvDirection { forward, backward_data, backward_weight };
// fp32: true FP32 arithmetic (PyTorch's rule with TF32 off). tf32: fp32 operands, tensor cores
// allowed (--precision tf32). bf16: bf16 operands and output, fp32 compute type, tensor cores allowed
// (--precision bf16; engine/model/mixed_precision.h); reduced-precision reductions stay excluded.
enum class ConvMath { fp32, tf32, bf16 };

// How x, w and y are stored: NCHW (w KCRS), or channels-last NHWC (w KRSC; every direction: the
// frozen front of engine/gpu/op_fusions.h forwards, the channels-last trainable part also takes
// the gradients). y_channels > 0 (forward only): y is the slice of a
// tensor of that many channels (a concatenation's output) starting at y's pointer; 0: packed.
// bias_relu (forward only): y = max(conv + bias[k], 0), the sum and the ReLU in fp32 before y's one
// rounding; the bias is fp32, one per output channel.
struct ConvLayout {
  bool nhwc = false;
  int64_t y_channels = 0;
  bool bias_relu = false;
};

// Unique ids in every graph; inputs and outputs never share one. The epilogue's two intermediates
// are virtual (no pointer).
constexpr int64_t kConvUidX = 1, kConvUidW = 2, kConvUidY = 3, kConvUidBias = 4;
constexpr int64_t kConvUidConvOut = 5, kConvUidBiased = 6;
// All our buffers are at least 256-byte aligned; 16 is what the engines ask for.
constexpr int64_t kConvAlignment = 16;

struct ConvGraph {
  // Kept alive together: the graph refers to its operations and they to their tensors.
  BackendDescriptor x, w, y, conv, op;
  BackendDescriptor bias, conv_out, biased, add, add_op, relu, relu_op;  // the epilogue's, else empty
  BackendDescriptor graph;
  int ops = 0;
};

// Finalized. Only a forward takes a sliced or fused layout, and a slice is wider than the
// convolution's output (InternalError otherwise). `handle` may be null (cuDNN 9.8 and later do not
// need it); a library that refuses the deprecated handle attribute is noted in `log`. Throws InternalError naming the refused attribute.
ConvGraph build_conv_graph(ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout,
                           cudnnHandle_t handle, std::string& log);

}  // namespace thaw::cuda
