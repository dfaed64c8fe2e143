#pragma once
// Whether `--device cuda` can run here. Declared in every build; without CUDA, or without a usable
// device, it throws a UserError naming --device cuda and the reason.
namespace thaw {

// Throws UserError "--device cuda: no usable CUDA device (<reason>)" unless a device answers.
void require_cuda_device();

}  // namespace thaw
