#pragma once
// What to do with an image that cannot be read (missing, truncated, corrupt, not JPEG or PNG):
// stop with its error (the default), or leave the sample out and list it (`--on-bad-image`).
#include <string>

namespace thaw {

enum class BadImagePolicy { Fail, Skip };

// "fail" or "skip"; anything else is a UserError naming --on-bad-image.
BadImagePolicy parse_bad_image_policy(const std::string& s);
const char* bad_image_policy_name(BadImagePolicy p);

}  // namespace thaw
