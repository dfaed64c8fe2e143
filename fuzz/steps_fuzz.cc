// libFuzzer target: fuzz/record_entries.h's steps() (scripts/fuzz builds and runs it).
#include "fuzz/record_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thaw::fuzz::steps({reinterpret_cast<const char*>(data), size});
  return 0;
}
