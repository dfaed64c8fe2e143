#include "engine/model/model_state.h"

#include <cmath>

#include "core/philox.h"

namespace thaw {

template <typename T>
ModelState<T> ModelState<T>::zeros(const Graph& g) {
  ModelState s;
  s.values.reserve(g.tensors.size());
  for (const auto& t : g.tensors) {
    s.values.emplace_back(t.role == TensorRole::NumBatchesTracked ? Shape{0} : t.shape);
  }
  s.batches_tracked.assign(g.tensors.size(), 0);
  return s;
}

template <typename T>
void ModelState<T>::init_tensor(const Graph& g, int index, uint64_t seed) {
  const TensorSpec& spec = g.tensors[index];
  Tensor<T>& v = values[index];
  const CounterRng rng(seed, RngPurpose::Init, 0, hash32(spec.name));
  switch (spec.role) {
    case TensorRole::Weight: {
      const int64_t fan_in = shape_numel(spec.shape) / spec.shape[0];
      if (g.nodes[spec.node].kind == OpKind::Conv) {
        // He-normal keeps the activation scale through ~150 ReLU layers at initialisation.
        const double std = std::sqrt(2.0 / static_cast<double>(fan_in));
        // Each element is a pure function of its index, so threads cannot change the values.
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < v.numel(); ++i) v[i] = static_cast<T>(std * rng.normal_at(i));
      } else {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < v.numel(); ++i) v[i] = static_cast<T>(bound * (2.0 * rng.uniform_double_at(i) - 1.0));
      }
      break;
    }
    case TensorRole::Bias: {
      const Shape& w = g.tensors[index - 1].shape;  // the linear weight precedes its bias
      const double bound = 1.0 / std::sqrt(static_cast<double>(w[1]));
      for (int64_t i = 0; i < v.numel(); ++i) v[i] = static_cast<T>(bound * (2.0 * rng.uniform_double_at(i) - 1.0));
      break;
    }
    case TensorRole::BnWeight:
    case TensorRole::RunningVar: v.fill(T{1}); break;
    case TensorRole::BnBias:
    case TensorRole::RunningMean: v.fill(T{0}); break;
    case TensorRole::NumBatchesTracked: batches_tracked[index] = 0; break;
  }
}

template <typename T>
ModelState<T> ModelState<T>::random(const Graph& g, uint64_t seed) {
  ModelState s = zeros(g);
  for (size_t i = 0; i < g.tensors.size(); ++i) s.init_tensor(g, static_cast<int>(i), seed);
  return s;
}

template <typename T>
template <typename U>
ModelState<U> ModelState<T>::cast() const {
  ModelState<U> out;
  out.batches_tracked = batches_tracked;
  out.values.reserve(values.size());
  for (const auto& v : values) {
    Tensor<U> u(v.shape());
    for (int64_t i = 0; i < v.numel(); ++i) u[i] = static_cast<U>(v[i]);
    out.values.push_back(std::move(u));
  }
  return out;
}

template struct ModelState<float>;
template struct ModelState<double>;
template ModelState<double> ModelState<float>::cast<double>() const;
template ModelState<float> ModelState<double>::cast<float>() const;
template ModelState<float> ModelState<float>::cast<float>() const;
template ModelState<double> ModelState<double>::cast<double>() const;

}  // namespace thaw
