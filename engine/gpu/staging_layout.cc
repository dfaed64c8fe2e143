#include "engine/gpu/staging_layout.h"

#include "core/error.h"
#include "engine/gpu/tensor_align.h"

namespace thaw {

StagingLayout staging_layout(std::span<const int64_t> starts, int64_t rows, int64_t per_row) {
  THAW_CHECK(rows >= 1 && per_row >= 1, "a shard of ", rows, " rows of ", per_row, " floats");
  const int64_t shard = rows * per_row;
  const int64_t stride = align_floats(shard);
  StagingLayout l;
  for (size_t j = 0; j < starts.size(); ++j) l.offsets.push_back(static_cast<int64_t>(j) * stride);
  l.floats = starts.empty() ? 0 : static_cast<int64_t>(starts.size() - 1) * stride + shard;
  return l;
}

}  // namespace thaw
