#include "engine/model/mixed_precision.h"

#include "core/error.h"

namespace thaw {

Numerics parse_numerics(std::string_view s) {
  if (s == "fp32") return Numerics::Fp32;
  if (s == "tf32") return Numerics::Tf32;
  if (s == "bf16") return Numerics::Bf16;
  fail_user("--precision: expected fp32, tf32 or bf16, got '", s, "'");
}

const char* numerics_name(Numerics n) {
  switch (n) {
    case Numerics::Fp32: return "fp32";
    case Numerics::Tf32: return "tf32";
    case Numerics::Bf16: return "bf16";
  }
  return "?";
}

}  // namespace thaw
