#include "engine/data/batch.h"

#include <exception>

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

void load_batch(const Dataset& data, const std::vector<int64_t>& indices, int64_t size, LoadMode mode,
                Tensor<float>& x, std::vector<int32_t>& labels) {
  const int64_t b = static_cast<int64_t>(indices.size());
  const int64_t per = 3 * size * size;
  x.reshape_uninit({b, 3, size, size});
  labels.resize(indices.size());
  // An exception must not leave an OpenMP region: each slot keeps its own, the first is rethrown.
  std::vector<std::exception_ptr> errors(indices.size());
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < b; ++s) {
    try {
      data.load(indices[s], size, mode, x.data() + s * per);
      labels[s] = data.label(indices[s]);
    } catch (...) {
      errors[s] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace thaw
