#pragma once
// Where each virtual shard's rows sit in the GPU step's batch buffer. A shard of b rows of 3 H W
// floats is an odd number of floats at most input sizes (3 x 299 x 299 is odd), so shards packed
// one after another would start at pointers cuDNN's engines refuse (they ask for 16-byte
// alignment). Each shard therefore starts at a multiple of kTensorAlign (tensor_align.h). Host arithmetic
// only: built and tested without CUDA.
#include <cstdint>
#include <span>
#include <vector>

namespace thaw {

struct StagingLayout {
  std::vector<int64_t> offsets;  // float offset of shard j's first row in the device buffer
  int64_t floats = 0;            // the buffer's size
};

// Shards of `rows` rows of `per_row` floats each, in the order of `starts` (their first rows in the
// host batch, engine/parallel/shards.h shard_starts): shard j at j x the shard's size rounded up to
// kTensorAlign.
StagingLayout staging_layout(std::span<const int64_t> starts, int64_t rows, int64_t per_row);

}  // namespace thaw
