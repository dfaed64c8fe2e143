#include "graph/inception_v4.h"

#include "core/error.h"

namespace thaw {

namespace {

// Appends nodes, and the tensors they own, to a graph while tracking the current block.
class Builder {
 public:
  explicit Builder(Graph& g) : g_(g) {}

  void begin_block(std::string name, std::string alias) {
    if (!g_.blocks.empty()) g_.blocks.back().last_node = static_cast<int>(g_.nodes.size()) - 1;
    g_.blocks.push_back({std::move(name), std::move(alias), static_cast<int>(g_.nodes.size()), 0});
  }
  void end() { g_.blocks.back().last_node = static_cast<int>(g_.nodes.size()) - 1; }

  int input(int64_t c, int64_t h, int64_t w) {
    Node n;
    n.name = "input";
    n.kind = OpKind::Input;
    n.out = {c, h, w};
    return add(std::move(n));
  }

  // timm's ConvNormAct: conv without bias, batch norm (eps 1e-3), ReLU.
  int conv_general(const std::string& prefix, int in, int64_t c_out, int64_t kh, int64_t kw,
                   int64_t stride, int64_t ph, int64_t pw) {
    const Shape& x = g_.nodes[in].out;
    Node c;
    c.name = prefix + ".conv";
    c.kind = OpKind::Conv;
    c.inputs = {in};
    c.kh = kh, c.kw = kw, c.sh = stride, c.sw = stride, c.ph = ph, c.pw = pw;
    c.out = {c_out, out_size(x[1], kh, stride, ph, c.name), out_size(x[2], kw, stride, pw, c.name)};
    const int conv_id = add(std::move(c));
    tensor(conv_id, prefix + ".conv.weight", {c_out, x[0], kh, kw}, TensorRole::Weight);

    Node b;
    b.name = prefix + ".bn";
    b.kind = OpKind::BatchNorm;
    b.inputs = {conv_id};
    b.out = g_.nodes[conv_id].out;
    const int bn_id = add(std::move(b));
    tensor(bn_id, prefix + ".bn.weight", {c_out}, TensorRole::BnWeight);
    tensor(bn_id, prefix + ".bn.bias", {c_out}, TensorRole::BnBias);
    tensor(bn_id, prefix + ".bn.running_mean", {c_out}, TensorRole::RunningMean);
    tensor(bn_id, prefix + ".bn.running_var", {c_out}, TensorRole::RunningVar);
    tensor(bn_id, prefix + ".bn.num_batches_tracked", {}, TensorRole::NumBatchesTracked);

    Node r;
    r.name = prefix + ".act";
    r.kind = OpKind::Relu;
    r.inputs = {bn_id};
    r.out = g_.nodes[bn_id].out;
    return add(std::move(r));
  }
  int conv(const std::string& prefix, int in, int64_t c_out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
    return conv_general(prefix, in, c_out, k, k, stride, pad, pad);
  }
  // The factorised 1xN / Nx1 convolutions: stride 1, "same" padding.
  int conv_rect(const std::string& prefix, int in, int64_t c_out, int64_t kh, int64_t kw) {
    return conv_general(prefix, in, c_out, kh, kw, 1, kh / 2, kw / 2);
  }

  int max_pool(const std::string& name, int in) { return pool(name, OpKind::MaxPool, in, 2, 0); }
  int avg_pool(const std::string& name, int in) { return pool(name, OpKind::AvgPool, in, 1, 1); }

  int concat(const std::string& name, std::vector<int> ins) {
    Node n;
    n.name = name;
    n.kind = OpKind::Concat;
    n.out = g_.nodes[ins[0]].out;
    n.out[0] = 0;
    for (int i : ins) n.out[0] += g_.nodes[i].out[0];
    n.inputs = std::move(ins);
    return add(std::move(n));
  }

  int global_pool(int in) {
    Node n;
    n.name = "global_pool";
    n.kind = OpKind::GlobalAvgPool;
    n.inputs = {in};
    n.out = {g_.nodes[in].out[0]};
    return add(std::move(n));
  }

  int dropout(int in, double p) {
    Node n;
    n.name = "head_drop";
    n.kind = OpKind::Dropout;
    n.inputs = {in};
    n.dropout = p;
    n.out = g_.nodes[in].out;
    return add(std::move(n));
  }

  int linear(const std::string& name, int in, int64_t out) {
    Node n;
    n.name = name;
    n.kind = OpKind::Linear;
    n.inputs = {in};
    n.out = {out};
    const int id = add(std::move(n));
    tensor(id, name + ".weight", {out, g_.nodes[in].out[0]}, TensorRole::Weight);
    tensor(id, name + ".bias", {out}, TensorRole::Bias);
    return id;
  }

 private:
  int add(Node n) {
    n.block = static_cast<int>(g_.blocks.size()) - 1;
    g_.nodes.push_back(std::move(n));
    return static_cast<int>(g_.nodes.size()) - 1;
  }
  void tensor(int node, std::string name, Shape shape, TensorRole role) {
    g_.nodes[node].tensors.push_back(static_cast<int>(g_.tensors.size()));
    g_.tensors.push_back({std::move(name), std::move(shape), role, node});
  }
  int pool(const std::string& name, OpKind kind, int in, int64_t stride, int64_t pad) {
    const Shape& x = g_.nodes[in].out;
    Node n;
    n.name = name;
    n.kind = kind;
    n.inputs = {in};
    n.kh = n.kw = 3;
    n.sh = n.sw = stride;
    n.ph = n.pw = pad;
    n.out = {x[0], out_size(x[1], 3, stride, pad, name), out_size(x[2], 3, stride, pad, name)};
    return add(std::move(n));
  }
  static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, const std::string& where) {
    const int64_t span = in + 2 * p - k;
    THAW_CHECK(span >= 0, "spatial size collapses at ", where);
    return span / s + 1;
  }

  Graph& g_;
};

std::string feat(int i) { return "features." + std::to_string(i); }

int inception_a(Builder& b, const std::string& p, int x) {
  const int b0 = b.conv(p + ".branch0", x, 96, 1);
  int b1 = b.conv(p + ".branch1.0", x, 64, 1);
  b1 = b.conv(p + ".branch1.1", b1, 96, 3, 1, 1);
  int b2 = b.conv(p + ".branch2.0", x, 64, 1);
  b2 = b.conv(p + ".branch2.1", b2, 96, 3, 1, 1);
  b2 = b.conv(p + ".branch2.2", b2, 96, 3, 1, 1);
  int b3 = b.avg_pool(p + ".branch3.0", x);
  b3 = b.conv(p + ".branch3.1", b3, 96, 1);
  return b.concat(p + ".cat", {b0, b1, b2, b3});
}

int reduction_a(Builder& b, const std::string& p, int x) {
  const int b0 = b.conv(p + ".branch0", x, 384, 3, 2);
  int b1 = b.conv(p + ".branch1.0", x, 192, 1);
  b1 = b.conv(p + ".branch1.1", b1, 224, 3, 1, 1);
  b1 = b.conv(p + ".branch1.2", b1, 256, 3, 2);
  const int b2 = b.max_pool(p + ".branch2", x);
  return b.concat(p + ".cat", {b0, b1, b2});
}

int inception_b(Builder& b, const std::string& p, int x) {
  const int b0 = b.conv(p + ".branch0", x, 384, 1);
  int b1 = b.conv(p + ".branch1.0", x, 192, 1);
  b1 = b.conv_rect(p + ".branch1.1", b1, 224, 1, 7);
  b1 = b.conv_rect(p + ".branch1.2", b1, 256, 7, 1);
  int b2 = b.conv(p + ".branch2.0", x, 192, 1);
  b2 = b.conv_rect(p + ".branch2.1", b2, 192, 7, 1);
  b2 = b.conv_rect(p + ".branch2.2", b2, 224, 1, 7);
  b2 = b.conv_rect(p + ".branch2.3", b2, 224, 7, 1);
  b2 = b.conv_rect(p + ".branch2.4", b2, 256, 1, 7);
  int b3 = b.avg_pool(p + ".branch3.0", x);
  b3 = b.conv(p + ".branch3.1", b3, 128, 1);
  return b.concat(p + ".cat", {b0, b1, b2, b3});
}

int reduction_b(Builder& b, const std::string& p, int x) {
  int b0 = b.conv(p + ".branch0.0", x, 192, 1);
  b0 = b.conv(p + ".branch0.1", b0, 192, 3, 2);
  int b1 = b.conv(p + ".branch1.0", x, 256, 1);
  b1 = b.conv_rect(p + ".branch1.1", b1, 256, 1, 7);
  b1 = b.conv_rect(p + ".branch1.2", b1, 320, 7, 1);
  b1 = b.conv(p + ".branch1.3", b1, 320, 3, 2);
  const int b2 = b.max_pool(p + ".branch2", x);
  return b.concat(p + ".cat", {b0, b1, b2});
}

int inception_c(Builder& b, const std::string& p, int x) {
  const int b0 = b.conv(p + ".branch0", x, 256, 1);
  const int b1 = b.conv(p + ".branch1_0", x, 384, 1);
  const int b1a = b.conv_rect(p + ".branch1_1a", b1, 256, 1, 3);
  const int b1b = b.conv_rect(p + ".branch1_1b", b1, 256, 3, 1);
  const int x1 = b.concat(p + ".cat1", {b1a, b1b});
  int b2 = b.conv(p + ".branch2_0", x, 384, 1);
  b2 = b.conv_rect(p + ".branch2_1", b2, 448, 3, 1);
  b2 = b.conv_rect(p + ".branch2_2", b2, 512, 1, 3);
  const int b2a = b.conv_rect(p + ".branch2_3a", b2, 256, 1, 3);
  const int b2b = b.conv_rect(p + ".branch2_3b", b2, 256, 3, 1);
  const int x2 = b.concat(p + ".cat2", {b2a, b2b});
  int b3 = b.avg_pool(p + ".branch3.0", x);
  b3 = b.conv(p + ".branch3.1", b3, 256, 1);
  return b.concat(p + ".cat", {b0, x1, x2, b3});
}

}  // namespace

Graph build_inception_v4(int64_t input_size, int64_t num_classes, double dropout) {
  if (input_size < kMinInputSize) {
    fail_user("--input-size: expected at least ", kMinInputSize, " (Inception v4 reduces 32x), got ", input_size);
  }
  if (num_classes < 1) fail_user("--classes: expected at least 1, got ", num_classes);
  if (dropout < 0.0 || dropout >= 1.0) fail_user("--dropout: expected a value in [0, 1), got ", dropout);

  Graph g;
  g.arch = "inception_v4";
  g.input_size = input_size;
  g.num_classes = num_classes;
  Builder b(g);

  b.begin_block("conv2d_1a", feat(0));
  int x = b.input(3, input_size, input_size);
  x = b.conv(feat(0), x, 32, 3, 2);
  b.begin_block("conv2d_2a", feat(1));
  x = b.conv(feat(1), x, 32, 3);
  b.begin_block("conv2d_2b", feat(2));
  x = b.conv(feat(2), x, 64, 3, 1, 1);

  b.begin_block("mixed_3a", feat(3));
  {
    const int pool = b.max_pool(feat(3) + ".maxpool", x);
    const int conv = b.conv(feat(3) + ".conv", x, 96, 3, 2);
    x = b.concat(feat(3) + ".cat", {pool, conv});
  }
  b.begin_block("mixed_4a", feat(4));
  {
    const std::string p = feat(4);
    int b0 = b.conv(p + ".branch0.0", x, 64, 1);
    b0 = b.conv(p + ".branch0.1", b0, 96, 3);
    int b1 = b.conv(p + ".branch1.0", x, 64, 1);
    b1 = b.conv_rect(p + ".branch1.1", b1, 64, 1, 7);
    b1 = b.conv_rect(p + ".branch1.2", b1, 64, 7, 1);
    b1 = b.conv(p + ".branch1.3", b1, 96, 3);
    x = b.concat(p + ".cat", {b0, b1});
  }
  b.begin_block("mixed_5a", feat(5));
  {
    const int conv = b.conv(feat(5) + ".conv", x, 192, 3, 2);
    const int pool = b.max_pool(feat(5) + ".maxpool", x);
    x = b.concat(feat(5) + ".cat", {conv, pool});
  }
  int idx = 6;
  for (char c : std::string("bcde")) {
    b.begin_block(std::string("mixed_5") + c, feat(idx));
    x = inception_a(b, feat(idx++), x);
  }
  b.begin_block("mixed_6a", feat(idx));
  x = reduction_a(b, feat(idx++), x);
  for (char c : std::string("bcdefgh")) {
    b.begin_block(std::string("mixed_6") + c, feat(idx));
    x = inception_b(b, feat(idx++), x);
  }
  b.begin_block("mixed_7a", feat(idx));
  x = reduction_b(b, feat(idx++), x);
  for (char c : std::string("bcd")) {
    b.begin_block(std::string("mixed_7") + c, feat(idx));
    x = inception_c(b, feat(idx++), x);
  }
  b.begin_block("head", "head");
  x = b.global_pool(x);
  x = b.dropout(x, dropout);
  b.linear("last_linear", x, num_classes);
  b.end();
  return g;
}

}  // namespace thaw
