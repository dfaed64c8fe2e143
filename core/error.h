#pragma once
// Two kinds of failure, as the error rules require: a user's mistake (bad flag, missing file,
// wrong tensor shape in a checkpoint) exits with 2 and one clear line; anything else is an
// internal fault and exits with 1.
#include <sstream>
#include <stdexcept>
#include <string>

namespace thaw {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& what) : std::runtime_error(what) {}
};

class InternalError : public std::runtime_error {
 public:
  explicit InternalError(const std::string& what) : std::runtime_error(what) {}
};

// Concatenates anything streamable: fail_user("file ", path, ": expected ", n, " bytes").
template <typename... Args>
std::string cat_str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void fail_user(const Args&... args) {
  throw UserError(cat_str(args...));
}

template <typename... Args>
[[noreturn]] void fail_internal(const Args&... args) {
  throw InternalError(cat_str(args...));
}

#define THAW_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) ::thaw::fail_internal(__FILE__, ":", __LINE__, ": check failed: " #cond ": ", \
                                       __VA_ARGS__);                                           \
  } while (0)

}  // namespace thaw
