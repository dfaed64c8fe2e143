#pragma once
// Sets an executor's gradient-ready hook (Executor::set_grad_ready, CudaExecutor::set_grad_ready)
// for one backward, and clears it however that backward ends.
#include <functional>
#include <utility>

namespace thaw {

template <typename Exec>
class GradReadyScope {
 public:
  GradReadyScope(Exec& exec, std::function<void(int)> ready) : exec_(exec) { exec_.set_grad_ready(std::move(ready)); }
  ~GradReadyScope() { exec_.set_grad_ready(nullptr); }
  GradReadyScope(const GradReadyScope&) = delete;
  GradReadyScope& operator=(const GradReadyScope&) = delete;

 private:
  Exec& exec_;
};

}  // namespace thaw
