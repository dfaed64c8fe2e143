#pragma once
#include "graph/graph.h"

namespace thaw {

constexpr int64_t kMinInputSize = 75;  // the smallest input for which every stride-2 stage keeps a pixel

// timm's inception_v4: stem, 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B,
// 3 x Inception-C, global average pool, dropout, linear. Input size below kMinInputSize or
// num_classes < 1 is a UserError naming --input-size / --classes. The default conventions are
// timm's (average pools leave padded cells out, as count_include_pad=False).
Graph build_inception_v4(int64_t input_size = 299, int64_t num_classes = 1000, double dropout = 0.0,
                         LayerConventions conventions = {.avgpool_count_pad = false, .bn_eps = 1e-3});

}  // namespace thaw
