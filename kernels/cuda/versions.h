#pragma once
// Library versions as loaded at run time (not as compiled against): what a run record pins and
// what replay compares. None of these need a GPU.
#include <cstddef>
#include <string>

namespace thaw::cuda {

struct LibraryVersions {
  int cuda_runtime = 0;          // e.g. 13000
  int cuda_driver = 0;           // 0 when no driver is installed
  size_t cudnn = 0;              // e.g. 91900
  size_t cudnn_compiled = 0;     // CUDNN_VERSION of the headers this binary was built with
  size_t cudnn_cudart = 0;       // CUDA runtime cuDNN was built for
  size_t cublaslt = 0;           // e.g. 130000
  std::string describe() const;  // "cuda runtime 13.0, driver 13.0, cudnn 9.19.0 (built 9.19.0), ..."
};

LibraryVersions library_versions();

}  // namespace thaw::cuda
