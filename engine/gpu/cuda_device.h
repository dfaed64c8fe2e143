#pragma once
// Whether `--device cuda` can run here. Declared in every build; without CUDA, or without a usable
// device, it throws a UserError naming --device cuda and the reason.
namespace thaw {

// Throws UserError "--device cuda: no usable CUDA device (<reason>)" unless a device answers.
void require_cuda_device();
// require_cuda_device, and GPU 0 has bf16 tensor cores (compute capability 8.0 or later); else a
// UserError naming --precision bf16 and the card.
void require_bf16_device();

}  // namespace thaw
