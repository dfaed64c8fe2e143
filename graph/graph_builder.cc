#include "graph/graph_builder.h"

#include "core/error.h"

namespace thaw {

namespace {

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, const std::string& where) {
  const int64_t span = in + 2 * p - k;
  THAW_CHECK(span >= 0, "spatial size collapses at ", where);
  return span / s + 1;
}

}  // namespace

void GraphBuilder::begin_block(std::string name, std::string alias) {
  if (!g_.blocks.empty()) g_.blocks.back().last_node = static_cast<int>(g_.nodes.size()) - 1;
  g_.blocks.push_back({std::move(name), std::move(alias), static_cast<int>(g_.nodes.size()), 0});
}

void GraphBuilder::end() { g_.blocks.back().last_node = static_cast<int>(g_.nodes.size()) - 1; }

int GraphBuilder::input(int64_t c, int64_t h, int64_t w) {
  Node n;
  n.name = "input";
  n.kind = OpKind::Input;
  n.out = {c, h, w};
  return add(std::move(n));
}

int GraphBuilder::conv_general(const std::string& prefix, int in, int64_t c_out, int64_t kh, int64_t kw,
                               int64_t stride, int64_t ph, int64_t pw) {
  // A copy: add() below may move the nodes, and the weight's shape is read after it.
  const Shape x = g_.nodes[in].out;
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
  b.eps = g_.conventions.bn_eps;
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

int GraphBuilder::max_pool(const std::string& name, int in) { return pool(name, OpKind::MaxPool, in, 2, 0); }

int GraphBuilder::avg_pool(const std::string& name, int in) {
  const int id = pool(name, OpKind::AvgPool, in, 1, 1);
  g_.nodes[id].pool_count_pad = g_.conventions.avgpool_count_pad;
  return id;
}

int GraphBuilder::concat(const std::string& name, std::vector<int> ins) {
  Node n;
  n.name = name;
  n.kind = OpKind::Concat;
  n.out = g_.nodes[ins[0]].out;
  n.out[0] = 0;
  for (int i : ins) n.out[0] += g_.nodes[i].out[0];
  n.inputs = std::move(ins);
  return add(std::move(n));
}

int GraphBuilder::global_pool(int in) {
  Node n;
  n.name = "global_pool";
  n.kind = OpKind::GlobalAvgPool;
  n.inputs = {in};
  n.out = {g_.nodes[in].out[0]};
  return add(std::move(n));
}

int GraphBuilder::dropout(int in, double p) {
  Node n;
  n.name = "head_drop";
  n.kind = OpKind::Dropout;
  n.inputs = {in};
  n.dropout = p;
  n.out = g_.nodes[in].out;
  return add(std::move(n));
}

int GraphBuilder::linear(const std::string& name, int in, int64_t out) {
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

int GraphBuilder::add(Node n) {
  n.block = static_cast<int>(g_.blocks.size()) - 1;
  g_.nodes.push_back(std::move(n));
  return static_cast<int>(g_.nodes.size()) - 1;
}

void GraphBuilder::tensor(int node, std::string name, Shape shape, TensorRole role) {
  g_.nodes[node].tensors.push_back(static_cast<int>(g_.tensors.size()));
  g_.tensors.push_back({std::move(name), std::move(shape), role, node});
}

int GraphBuilder::pool(const std::string& name, OpKind kind, int in, int64_t stride, int64_t pad) {
  const Shape x = g_.nodes[in].out;  // a copy, as in conv_general
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

void check_build_args(const char* arch, int64_t input_size, int64_t min_input, int64_t num_classes, double dropout) {
  if (input_size < min_input) {
    fail_user("--input-size: expected at least ", min_input, " (", arch, " reduces 32x), got ", input_size);
  }
  if (input_size > kMaxInputSize) {
    fail_user("--input-size: expected at most ", kMaxInputSize, ", got ", input_size);
  }
  if (num_classes < 1 || num_classes > kMaxClasses) {
    fail_user("--classes: expected a number in [1, ", kMaxClasses, "], got ", num_classes);
  }
  if (dropout < 0.0 || dropout >= 1.0) fail_user("--dropout: expected a value in [0, 1), got ", dropout);
}

}  // namespace thaw
