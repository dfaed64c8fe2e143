#pragma once
#include "graph/graph.h"

namespace thaw {

constexpr int64_t kMinInputSize = 75;  // the smallest input for which every stride-2 stage keeps a pixel

// timm's inception_v4: stem, 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B,
// 3 x Inception-C, global average pool, dropout, linear. Input size below kMinInputSize or
// num_classes < 1 is a UserError naming --input-size / --classes.
Graph build_inception_v4(int64_t input_size = 299, int64_t num_classes = 1000, double dropout = 0.0);

}  // namespace thaw
