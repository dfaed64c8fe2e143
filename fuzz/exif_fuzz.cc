// libFuzzer target: fuzz/fuzz_entries.h's exif() (scripts/fuzz builds and runs it).
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  thaw::fuzz::exif({reinterpret_cast<const char*>(data), size});
  return 0;
}
