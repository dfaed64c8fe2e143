// libFuzzer target: fuzz/record_entries.h's record() (scripts/fuzz builds and runs it).
#include "fuzz/record_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thaw::fuzz::record({reinterpret_cast<const char*>(data), size});
  return 0;
}
