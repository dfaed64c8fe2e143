#include "engine/model/batch_memory.h"

#include "core/error.h"
#include "core/memory.h"

namespace thaw {
namespace {

void check_batch(int64_t batch, int64_t per_image, std::string_view flag, int64_t input_size, std::string_view what) {
  check_fits_in_memory(batch * per_image,
                       cat_str(flag, " ", batch, " at --input-size ", input_size, " (", per_image >> 20, " MiB ", what,
                               " per image)"),
                       cat_str("; a smaller ", flag, " or --input-size needs less"));
}

}  // namespace

int64_t training_bytes_per_image(const Graph& g, const Plan& plan) {
  const auto f = static_cast<int64_t>(sizeof(float));
  return plan.kept_bytes_per_sample(g, f) + 2 * g.largest_output_floats() * f;
}

int64_t inference_bytes_per_image(const Graph& g) {
  return 2 * g.largest_output_floats() * static_cast<int64_t>(sizeof(float));
}

void check_training_batch_memory(const Graph& g, const Plan& plan, int64_t batch) {
  check_batch(batch, training_bytes_per_image(g, plan), "--batch-size", g.input_size, "kept for backward");
}

void check_inference_batch_memory(const Graph& g, int64_t batch, std::string_view batch_flag) {
  check_batch(batch, inference_bytes_per_image(g), batch_flag, g.input_size, "of activations");
}

}  // namespace thaw
