// The error-check family and the name tables: none of this needs a GPU, so these run everywhere.
#include "kernels/cuda/check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "kernels/cuda/cudnn_backend.h"
#include "kernels/cuda/device_query.h"
#include "kernels/cuda/versions.h"

namespace thaw::cuda_test {
namespace {

using ::testing::HasSubstr;

std::string message_of(void (*f)()) {
  try {
    f();
  } catch (const InternalError& e) {
    return e.what();
  }
  return "(no InternalError thrown)";
}

TEST(CudaCheck, RuntimeErrorNamesCallFileLineAndStatus) {
  const std::string m = message_of([] { THAW_CUDA_CHECK(cudaErrorMemoryAllocation); });
  EXPECT_THAT(m, HasSubstr("cudaErrorMemoryAllocation"));  // the call as written, and the status name
  EXPECT_THAT(m, HasSubstr("check_test.cc:"));
  EXPECT_THAT(m, HasSubstr("out of memory"));  // the runtime's own words
}

TEST(CudaCheck, ContextIsPartOfTheMessage) {
  const std::string m = message_of([] { THAW_CUDA_CHECK_CTX(cudaErrorInvalidValue, "conv fwd n2 c3 299x299"); });
  EXPECT_THAT(m, HasSubstr("[conv fwd n2 c3 299x299]"));
}

TEST(CudaCheck, SuccessDoesNotThrow) {
  EXPECT_NO_THROW(THAW_CUDA_CHECK(cudaSuccess));
  EXPECT_NO_THROW(THAW_CUDNN_CHECK(CUDNN_STATUS_SUCCESS));
  EXPECT_NO_THROW(THAW_CUBLAS_CHECK(CUBLAS_STATUS_SUCCESS));
}

TEST(CudnnCheck, RefinedStatusReportsItsCategory) {
  const std::string m = message_of([] { THAW_CUDNN_CHECK(CUDNN_STATUS_NOT_SUPPORTED_SHAPE); });
  EXPECT_THAT(m, HasSubstr("CUDNN_STATUS_NOT_SUPPORTED_SHAPE"));
  EXPECT_THAT(m, HasSubstr("category NOT_SUPPORTED"));
  EXPECT_STREQ(cuda::cudnn_status_category(CUDNN_STATUS_BAD_PARAM_NULL_POINTER), "BAD_PARAM");
  EXPECT_STREQ(cuda::cudnn_status_category(CUDNN_STATUS_EXECUTION_FAILED_CUDART), "EXECUTION_FAILED");
}

TEST(CublasCheck, StatusNameInMessage) {
  const std::string m = message_of([] { THAW_CUBLAS_CHECK(CUBLAS_STATUS_NOT_SUPPORTED); });
  EXPECT_THAT(m, HasSubstr("CUBLAS_STATUS_NOT_SUPPORTED"));
  EXPECT_THAT(m, HasSubstr("check_test.cc:"));
}

// The name tables are written out by hand: pin them to the header's enum values.
TEST(CudnnNames, TablesMatchTheHeaderEnums) {
  EXPECT_EQ(cuda::numerical_note_name(CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC), "NONDETERMINISTIC");
  EXPECT_EQ(cuda::numerical_note_name(CUDNN_NUMERICAL_NOTE_TENSOR_CORE), "TENSOR_CORE");
  EXPECT_EQ(cuda::numerical_note_name(CUDNN_NUMERICAL_NOTE_STRICT_NAN_PROP), "STRICT_NAN_PROP");
  EXPECT_EQ(cuda::numerical_note_name(CUDNN_NUMERICAL_NOTE_TYPE_COUNT), "note10");
  EXPECT_EQ(cuda::behavior_note_name(CUDNN_BEHAVIOR_NOTE_CUBLASLT_DEPENDENCY), "CUBLASLT_DEPENDENCY");
  EXPECT_EQ(cuda::knob_name(CUDNN_KNOB_TYPE_TILE_SIZE), "TILE_SIZE");
  EXPECT_EQ(cuda::knob_name(CUDNN_KNOB_TYPE_STAGES), "STAGES");
  EXPECT_EQ(cuda::knob_name(CUDNN_KNOB_TYPE_SWAP_AB), "SWAP_AB");
  EXPECT_EQ(cuda::knob_name(CUDNN_KNOB_TYPE_COUNTS), "knob44");
}

// Printed in every run (the device logs keep it); fails if the loaded cuDNN is not a 9.x.
TEST(Versions, LoadedLibrariesAreReported) {
  const cuda::LibraryVersions v = cuda::library_versions();
  std::string why;
  const int devices = cuda::device_count(&why);
  std::printf("[versions] %s; devices %d%s%s\n", v.describe().c_str(), devices, devices ? "" : ": ",
              devices ? "" : why.c_str());
  ::testing::Test::RecordProperty("library_versions", v.describe());
  EXPECT_EQ(v.cudnn / 10000, 9u) << "cuDNN " << v.cudnn << " loaded; thaw is built for cuDNN 9";
  EXPECT_EQ(v.cudnn_compiled / 10000, 9u);
  EXPECT_GT(v.cuda_runtime, 0);
  EXPECT_GT(v.cublaslt, 0u);
}

}  // namespace
}  // namespace thaw::cuda_test
