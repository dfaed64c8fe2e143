#include "engine/data/synthetic.h"

#include "core/philox.h"

namespace thaw {

void synthetic_batch(uint64_t seed, int64_t step, int64_t batch, int64_t size, int64_t classes, Tensor<float>& x,
                     std::vector<int32_t>& labels) {
  const int64_t per = 3 * size * size;
  x.reshape_uninit({batch, 3, size, size});
  labels.resize(static_cast<size_t>(batch));
#pragma omp parallel for schedule(static)
  for (int64_t s = 0; s < batch; ++s) {
    const CounterRng rng(seed, RngPurpose::Synthetic, static_cast<uint32_t>(step), static_cast<uint32_t>(s));
    float* dst = x.data() + s * per;
    for (int64_t e = 0; e < per; ++e) dst[e] = 2.0f * rng.uniform_float_at(e + 1) - 1.0f;
    labels[s] = static_cast<int32_t>(rng.u32_at(0) % static_cast<uint32_t>(classes));
  }
}

}  // namespace thaw
