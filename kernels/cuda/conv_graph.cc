#include "kernels/cuda/conv_graph.h"

#include <vector>

#include "core/error.h"

namespace thaw::cuda {

namespace {

struct TensorSpec {
  int64_t uid = 0;
  std::vector<int64_t> dims;  // logical order: N, C, H, W (filters K, C, R, S)
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
  bool nhwc = false;
  int64_t width = 0;  // > dims[1]: the channel dimension is a slice of one this wide
  bool is_virtual = false;
};

BackendDescriptor make_tensor(const TensorSpec& s) {
  const int64_t c = s.width > 0 ? s.width : s.dims[1], h = s.dims[2], w = s.dims[3];
  const std::vector<int64_t> strides = s.nhwc ? std::vector<int64_t>{h * w * c, 1, w * c, c}
                                              : std::vector<int64_t>{c * h * w, h * w, w, 1};
  BackendDescriptor t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &s.type, "CUDNN_ATTR_TENSOR_DATA_TYPE");
  t.set_int64(CUDNN_ATTR_TENSOR_DIMENSIONS, s.dims, "CUDNN_ATTR_TENSOR_DIMENSIONS");
  t.set_int64(CUDNN_ATTR_TENSOR_STRIDES, strides, "CUDNN_ATTR_TENSOR_STRIDES");
  t.set_int64(CUDNN_ATTR_TENSOR_UNIQUE_ID, {s.uid}, "CUDNN_ATTR_TENSOR_UNIQUE_ID");
  t.set_int64(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, {kConvAlignment}, "CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT");
  if (s.is_virtual) {
    const bool yes = true;
    t.set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &yes, "CUDNN_ATTR_TENSOR_IS_VIRTUAL");
  }
  t.finalize("tensor descriptor");
  return t;
}

BackendDescriptor make_conv(const ConvGeom& g) {
  BackendDescriptor c(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  const cudnnDataType_t compute = CUDNN_DATA_FLOAT;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;  // PyTorch's convolution
  c.set_int64(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, {2}, "CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS");
  c.set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute, "CUDNN_ATTR_CONVOLUTION_COMP_TYPE");
  c.set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, "CUDNN_ATTR_CONVOLUTION_CONV_MODE");
  c.set_int64(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, {g.sh, g.sw}, "CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES");
  c.set_int64(CUDNN_ATTR_CONVOLUTION_DILATIONS, {1, 1}, "CUDNN_ATTR_CONVOLUTION_DILATIONS");
  c.set_int64(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, {g.ph, g.pw}, "CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS");
  c.set_int64(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, {g.ph, g.pw}, "CUDNN_ATTR_CONVOLUTION_POST_PADDINGS");
  c.finalize("convolution descriptor");
  return c;
}

// Sets the operation's three operands and the convolution, with alpha 1 and beta 0 (the output is
// overwritten, never read). The attribute names differ per direction; the pattern does not.
struct OpAttrs {
  cudnnBackendDescriptorType_t type;
  cudnnBackendAttributeName_t x, w, y, conv, alpha, beta;
  const char* what;
};

OpAttrs op_attrs(ConvDirection dir) {
  switch (dir) {
    case ConvDirection::forward:
      return {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
              CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, "convolution forward operation"};
    case ConvDirection::backward_data:
      return {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, "convolution backward-data operation"};
    case ConvDirection::backward_weight:
      return {CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
              CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
              "convolution backward-filter operation"};
  }
  fail_internal("unknown convolution direction ", static_cast<int>(dir));
}

BackendDescriptor make_operation(ConvDirection dir, const BackendDescriptor& x, const BackendDescriptor& w,
                                 const BackendDescriptor& y, const BackendDescriptor& conv) {
  const OpAttrs a = op_attrs(dir);
  const float alpha = 1.0f, beta = 0.0f;
  BackendDescriptor op(a.type);
  op.set_desc(a.x, x, "convolution operand x");
  op.set_desc(a.w, w, "convolution operand w");
  op.set_desc(a.y, y, "convolution operand y");
  op.set_desc(a.conv, conv, "convolution descriptor");
  op.set(a.alpha, CUDNN_TYPE_FLOAT, 1, &alpha, "convolution alpha");
  op.set(a.beta, CUDNN_TYPE_FLOAT, 1, &beta, "convolution beta");
  op.finalize(a.what);
  return op;
}

BackendDescriptor make_pointwise(cudnnPointwiseMode_t mode) {
  BackendDescriptor pw(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
  const cudnnDataType_t prec = CUDNN_DATA_FLOAT;
  pw.set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, "CUDNN_ATTR_POINTWISE_MODE");
  pw.set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec, "CUDNN_ATTR_POINTWISE_MATH_PREC");
  pw.finalize("pointwise descriptor");
  return pw;
}

// b: the second operand of a binary mode; null for a unary one.
BackendDescriptor make_pointwise_op(const BackendDescriptor& pw, const BackendDescriptor& x, const BackendDescriptor* b,
                                    const BackendDescriptor& y) {
  BackendDescriptor op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
  op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, "CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR");
  op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, "CUDNN_ATTR_OPERATION_POINTWISE_XDESC");
  if (b) op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b, "CUDNN_ATTR_OPERATION_POINTWISE_BDESC");
  op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, "CUDNN_ATTR_OPERATION_POINTWISE_YDESC");
  op.finalize("pointwise operation");
  return op;
}


}  // namespace

ConvGraph build_conv_graph(ConvDirection dir, const ConvGeom& g, ConvMath math, ConvLayout layout,
                           cudnnHandle_t handle, std::string& log) {
  THAW_CHECK(dir == ConvDirection::forward || (layout.y_channels == 0 && !layout.bias_relu),
             "only a forward convolution takes a sliced or fused output");
  THAW_CHECK(layout.y_channels == 0 || layout.y_channels > g.c_out, "a sliced output needs more than the ", g.c_out,
             " channels the convolution writes, got ", layout.y_channels);
  // bf16 operands (the bf16 rule: fp32 products summed in fp32, the output rounded once).
  const cudnnDataType_t type = math == ConvMath::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  const bool nhwc = layout.nhwc;
  const std::vector<int64_t> y_dims = {g.n, g.c_out, g.h_out(), g.w_out()};
  ConvGraph cg;
  cg.x = make_tensor({kConvUidX, {g.n, g.c_in, g.h_in, g.w_in}, type, nhwc});
  cg.w = make_tensor({kConvUidW, {g.c_out, g.c_in, g.kh, g.kw}, type, nhwc});
  cg.y = make_tensor({kConvUidY, y_dims, type, nhwc, layout.y_channels});
  cg.conv = make_conv(g);
  std::vector<cudnnBackendDescriptor_t> ops;
  if (!layout.bias_relu) {
    cg.op = make_operation(dir, cg.x, cg.w, cg.y, cg.conv);
    ops = {cg.op.get()};
  } else {
    // conv -> (fp32) + bias -> (fp32) ReLU -> y: the conv's output is the add's first operand.
    cg.conv_out = make_tensor({kConvUidConvOut, y_dims, CUDNN_DATA_FLOAT, nhwc, 0, true});
    cg.biased = make_tensor({kConvUidBiased, y_dims, CUDNN_DATA_FLOAT, nhwc, 0, true});
    cg.bias = make_tensor({kConvUidBias, {1, g.c_out, 1, 1}, CUDNN_DATA_FLOAT, nhwc});
    cg.op = make_operation(dir, cg.x, cg.w, cg.conv_out, cg.conv);
    cg.add = make_pointwise(CUDNN_POINTWISE_ADD);
    cg.add_op = make_pointwise_op(cg.add, cg.conv_out, &cg.bias, cg.biased);
    cg.relu = make_pointwise(CUDNN_POINTWISE_RELU_FWD);
    cg.relu_op = make_pointwise_op(cg.relu, cg.biased, nullptr, cg.y);
    ops = {cg.op.get(), cg.add_op.get(), cg.relu_op.get()};
  }
  cg.graph = BackendDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  cg.graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<int64_t>(ops.size()),
               ops.data(), "CUDNN_ATTR_OPERATIONGRAPH_OPS");
  if (handle) set_handle_attribute(cg.graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, handle, "graph handle", log);
  cg.graph.finalize("operation graph");
  cg.ops = static_cast<int>(ops.size());
  return cg;
}

}  // namespace thaw::cuda
