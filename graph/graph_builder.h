#pragma once
// Appends nodes, and the state_dict tensors they own, to a graph while tracking the current block:
// the pieces every Inception builder is made of (conv + batch norm + ReLU as timm's ConvNormAct /
// BasicConv2d, 3x3 pools, concat, the head), so that no architecture spells them out twice.
#include <string>
#include <vector>

#include "graph/graph.h"

namespace thaw {

class GraphBuilder {
 public:
  // Every batch-norm and average-pool node gets the graph's conventions.
  explicit GraphBuilder(Graph& g) : g_(g) {}

  // Closes the current block (if any) and opens the next; `alias` may be empty.
  void begin_block(std::string name, std::string alias);
  void end();  // closes the last block

  int input(int64_t c, int64_t h, int64_t w);

  // Conv without bias, batch norm, ReLU, as nodes prefix.conv / prefix.bn / prefix.act with the
  // tensors prefix.conv.weight and prefix.bn.{weight,bias,running_mean,running_var,num_batches_tracked}.
  int conv_general(const std::string& prefix, int in, int64_t c_out, int64_t kh, int64_t kw, int64_t stride,
                   int64_t ph, int64_t pw);
  int conv(const std::string& prefix, int in, int64_t c_out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
    return conv_general(prefix, in, c_out, k, k, stride, pad, pad);
  }
  // The factorised 1xN / Nx1 convolutions: stride 1, "same" padding.
  int conv_rect(const std::string& prefix, int in, int64_t c_out, int64_t kh, int64_t kw) {
    return conv_general(prefix, in, c_out, kh, kw, 1, kh / 2, kw / 2);
  }

  int max_pool(const std::string& name, int in);  // 3x3, stride 2, no padding
  int avg_pool(const std::string& name, int in);  // 3x3, stride 1, padding 1
  int concat(const std::string& name, std::vector<int> ins);
  int global_pool(int in);
  int dropout(int in, double p);
  int linear(const std::string& name, int in, int64_t out);

 private:
  int add(Node n);
  void tensor(int node, std::string name, Shape shape, TensorRole role);
  int pool(const std::string& name, OpKind kind, int in, int64_t stride, int64_t pad);

  Graph& g_;
};

// The largest input and the most classes a network is built for: far beyond any use (Inception is
// trained at 299), small enough that the activations and head they imply can be counted in int64
// and checked against memory before anything is allocated.
inline constexpr int64_t kMaxInputSize = 2048;
inline constexpr int64_t kMaxClasses = 100000;

// The checks every builder makes before building; UserErrors name --input-size, --classes and
// --dropout. `min_input` is the smallest size every stride-2 stage keeps a pixel for.
void check_build_args(const char* arch, int64_t input_size, int64_t min_input, int64_t num_classes, double dropout);

}  // namespace thaw
