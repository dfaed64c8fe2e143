#include "io/bad_image.h"

#include "core/error.h"

namespace thaw {

BadImagePolicy parse_bad_image_policy(const std::string& s) {
  if (s == "fail") return BadImagePolicy::Fail;
  if (s == "skip") return BadImagePolicy::Skip;
  fail_user("--on-bad-image: expected fail or skip, got '", s, "'");
}

const char* bad_image_policy_name(BadImagePolicy p) { return p == BadImagePolicy::Skip ? "skip" : "fail"; }

}  // namespace thaw
