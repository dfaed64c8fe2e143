#include "graph/inception_v4.h"

#include "graph/graph_builder.h"

namespace thaw {

namespace {

std::string feat(int i) { return "features." + std::to_string(i); }

int inception_a(GraphBuilder& b, const std::string& p, int x) {
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

int reduction_a(GraphBuilder& b, const std::string& p, int x) {
  const int b0 = b.conv(p + ".branch0", x, 384, 3, 2);
  int b1 = b.conv(p + ".branch1.0", x, 192, 1);
  b1 = b.conv(p + ".branch1.1", b1, 224, 3, 1, 1);
  b1 = b.conv(p + ".branch1.2", b1, 256, 3, 2);
  const int b2 = b.max_pool(p + ".branch2", x);
  return b.concat(p + ".cat", {b0, b1, b2});
}

int inception_b(GraphBuilder& b, const std::string& p, int x) {
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

int reduction_b(GraphBuilder& b, const std::string& p, int x) {
  int b0 = b.conv(p + ".branch0.0", x, 192, 1);
  b0 = b.conv(p + ".branch0.1", b0, 192, 3, 2);
  int b1 = b.conv(p + ".branch1.0", x, 256, 1);
  b1 = b.conv_rect(p + ".branch1.1", b1, 256, 1, 7);
  b1 = b.conv_rect(p + ".branch1.2", b1, 320, 7, 1);
  b1 = b.conv(p + ".branch1.3", b1, 320, 3, 2);
  const int b2 = b.max_pool(p + ".branch2", x);
  return b.concat(p + ".cat", {b0, b1, b2});
}

int inception_c(GraphBuilder& b, const std::string& p, int x) {
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

Graph build_inception_v4(int64_t input_size, int64_t num_classes, double dropout, LayerConventions conventions) {
  check_build_args("inception_v4", input_size, kMinInputSize, num_classes, dropout);
  Graph g;
  g.arch = "inception_v4";
  g.input_size = input_size;
  g.num_classes = num_classes;
  g.conventions = conventions;
  GraphBuilder b(g);

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
