#include "graph/inception_v3.h"

#include "graph/graph_builder.h"

namespace thaw {

namespace {

// The branch order of every concat is timm's (and torchvision's), which is also the input order
// of Keras' mixedN concatenations.
int inception_a(GraphBuilder& b, const std::string& p, int x, int64_t pool_features) {
  const int b1x1 = b.conv(p + ".branch1x1", x, 64, 1);
  int b5 = b.conv(p + ".branch5x5_1", x, 48, 1);
  b5 = b.conv(p + ".branch5x5_2", b5, 64, 5, 1, 2);
  int b3 = b.conv(p + ".branch3x3dbl_1", x, 64, 1);
  b3 = b.conv(p + ".branch3x3dbl_2", b3, 96, 3, 1, 1);
  b3 = b.conv(p + ".branch3x3dbl_3", b3, 96, 3, 1, 1);
  int bp = b.avg_pool(p + ".avg_pool", x);
  bp = b.conv(p + ".branch_pool", bp, pool_features, 1);
  return b.concat(p + ".cat", {b1x1, b5, b3, bp});
}

int inception_b(GraphBuilder& b, const std::string& p, int x) {
  const int b3 = b.conv(p + ".branch3x3", x, 384, 3, 2);
  int bd = b.conv(p + ".branch3x3dbl_1", x, 64, 1);
  bd = b.conv(p + ".branch3x3dbl_2", bd, 96, 3, 1, 1);
  bd = b.conv(p + ".branch3x3dbl_3", bd, 96, 3, 2);
  const int bp = b.max_pool(p + ".max_pool", x);
  return b.concat(p + ".cat", {b3, bd, bp});
}

int inception_c(GraphBuilder& b, const std::string& p, int x, int64_t c7) {
  const int b1x1 = b.conv(p + ".branch1x1", x, 192, 1);
  int b7 = b.conv(p + ".branch7x7_1", x, c7, 1);
  b7 = b.conv_rect(p + ".branch7x7_2", b7, c7, 1, 7);
  b7 = b.conv_rect(p + ".branch7x7_3", b7, 192, 7, 1);
  int bd = b.conv(p + ".branch7x7dbl_1", x, c7, 1);
  bd = b.conv_rect(p + ".branch7x7dbl_2", bd, c7, 7, 1);
  bd = b.conv_rect(p + ".branch7x7dbl_3", bd, c7, 1, 7);
  bd = b.conv_rect(p + ".branch7x7dbl_4", bd, c7, 7, 1);
  bd = b.conv_rect(p + ".branch7x7dbl_5", bd, 192, 1, 7);
  int bp = b.avg_pool(p + ".avg_pool", x);
  bp = b.conv(p + ".branch_pool", bp, 192, 1);
  return b.concat(p + ".cat", {b1x1, b7, bd, bp});
}

int inception_d(GraphBuilder& b, const std::string& p, int x) {
  int b3 = b.conv(p + ".branch3x3_1", x, 192, 1);
  b3 = b.conv(p + ".branch3x3_2", b3, 320, 3, 2);
  int b7 = b.conv(p + ".branch7x7x3_1", x, 192, 1);
  b7 = b.conv_rect(p + ".branch7x7x3_2", b7, 192, 1, 7);
  b7 = b.conv_rect(p + ".branch7x7x3_3", b7, 192, 7, 1);
  b7 = b.conv(p + ".branch7x7x3_4", b7, 192, 3, 2);
  const int bp = b.max_pool(p + ".max_pool", x);
  return b.concat(p + ".cat", {b3, b7, bp});
}

int inception_e(GraphBuilder& b, const std::string& p, int x) {
  const int b1x1 = b.conv(p + ".branch1x1", x, 320, 1);
  const int b3 = b.conv(p + ".branch3x3_1", x, 384, 1);
  const int b3a = b.conv_rect(p + ".branch3x3_2a", b3, 384, 1, 3);
  const int b3b = b.conv_rect(p + ".branch3x3_2b", b3, 384, 3, 1);
  const int x3 = b.concat(p + ".cat3x3", {b3a, b3b});
  int bd = b.conv(p + ".branch3x3dbl_1", x, 448, 1);
  bd = b.conv(p + ".branch3x3dbl_2", bd, 384, 3, 1, 1);
  const int bda = b.conv_rect(p + ".branch3x3dbl_3a", bd, 384, 1, 3);
  const int bdb = b.conv_rect(p + ".branch3x3dbl_3b", bd, 384, 3, 1);
  const int xd = b.concat(p + ".cat3x3dbl", {bda, bdb});
  int bp = b.avg_pool(p + ".avg_pool", x);
  bp = b.conv(p + ".branch_pool", bp, 192, 1);
  return b.concat(p + ".cat", {b1x1, x3, xd, bp});
}

}  // namespace

Graph build_inception_v3(int64_t input_size, int64_t num_classes, double dropout, LayerConventions conventions) {
  check_build_args("inception_v3", input_size, kMinInputSizeV3, num_classes, dropout);
  Graph g;
  g.arch = "inception_v3";
  g.input_size = input_size;
  g.num_classes = num_classes;
  g.conventions = conventions;
  GraphBuilder b(g);

  b.begin_block("Conv2d_1a_3x3", "");
  int x = b.input(3, input_size, input_size);
  x = b.conv("Conv2d_1a_3x3", x, 32, 3, 2);
  b.begin_block("Conv2d_2a_3x3", "");
  x = b.conv("Conv2d_2a_3x3", x, 32, 3);
  b.begin_block("Conv2d_2b_3x3", "");
  x = b.conv("Conv2d_2b_3x3", x, 64, 3, 1, 1);
  b.begin_block("Pool1", "");
  x = b.max_pool("Pool1", x);
  b.begin_block("Conv2d_3b_1x1", "");
  x = b.conv("Conv2d_3b_1x1", x, 80, 1);
  b.begin_block("Conv2d_4a_3x3", "");
  x = b.conv("Conv2d_4a_3x3", x, 192, 3);
  b.begin_block("Pool2", "");
  x = b.max_pool("Pool2", x);

  b.begin_block("Mixed_5b", "mixed0");
  x = inception_a(b, "Mixed_5b", x, 32);
  b.begin_block("Mixed_5c", "mixed1");
  x = inception_a(b, "Mixed_5c", x, 64);
  b.begin_block("Mixed_5d", "mixed2");
  x = inception_a(b, "Mixed_5d", x, 64);
  b.begin_block("Mixed_6a", "mixed3");
  x = inception_b(b, "Mixed_6a", x);
  b.begin_block("Mixed_6b", "mixed4");
  x = inception_c(b, "Mixed_6b", x, 128);
  b.begin_block("Mixed_6c", "mixed5");
  x = inception_c(b, "Mixed_6c", x, 160);
  b.begin_block("Mixed_6d", "mixed6");
  x = inception_c(b, "Mixed_6d", x, 160);
  b.begin_block("Mixed_6e", "mixed7");
  x = inception_c(b, "Mixed_6e", x, 192);
  b.begin_block("Mixed_7a", "mixed8");
  x = inception_d(b, "Mixed_7a", x);
  b.begin_block("Mixed_7b", "mixed9");
  x = inception_e(b, "Mixed_7b", x);
  b.begin_block("Mixed_7c", "mixed10");
  x = inception_e(b, "Mixed_7c", x);

  b.begin_block("head", "fc");
  x = b.global_pool(x);
  x = b.dropout(x, dropout);
  b.linear("fc", x, num_classes);
  b.end();
  return g;
}

}  // namespace thaw
