#include "engine/batch.h"

#include "core/philox.h"

namespace thaw {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  const CounterRng rng(seed, RngPurpose::Order, static_cast<uint32_t>(epoch), 0);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.uniform_double_at(i) * static_cast<double>(n - i));
    std::swap(order[i], order[j]);
  }
  return order;
}

void load_batch(const Dataset& data, const std::vector<int64_t>& indices, int64_t size, Tensor<float>& x,
                std::vector<int32_t>& labels) {
  const int64_t b = static_cast<int64_t>(indices.size());
  const int64_t per = 3 * size * size;
  x.reshape_uninit({b, 3, size, size});
  labels.resize(indices.size());
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < b; ++s) {
    data.load(indices[s], size, x.data() + s * per);
    labels[s] = data.label(indices[s]);
  }
}

}  // namespace thaw
