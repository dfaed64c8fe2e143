#pragma once
#include "graph/graph.h"

namespace thaw {

constexpr int64_t kMinInputSizeV3 = 75;  // the smallest input for which every stride-2 stage keeps a pixel

// timm's inception_v3 without the auxiliary classifier: stem (Conv2d_1a_3x3 .. Pool2), 3 x
// Inception-A (Mixed_5b..5d), Mixed_6a, 4 x Inception-C (Mixed_6b..6e), Mixed_7a, 2 x Inception-E
// (Mixed_7b, 7c), global average pool, dropout, `fc`. State_dict keys are timm's; blocks are
// timm's modules with Keras' names (mixed0 .. mixed10) as aliases. The default conventions are
// timm's (average pools count padded cells); Keras weights bring their own (engine/model/weights_origin.h).
// Input size below kMinInputSizeV3 or num_classes < 1 is a UserError naming the flag.
Graph build_inception_v3(int64_t input_size = 299, int64_t num_classes = 1000, double dropout = 0.0,
                         LayerConventions conventions = {.avgpool_count_pad = true, .bn_eps = 1e-3});

}  // namespace thaw
