#pragma once
// Whether a JSON value read from a file is an integer that a C++ integer type holds. nlohmann's
// get<T>() converts a fraction or an out-of-range number with a plain cast, which is undefined
// behaviour for floating values and wraps integers, so every integer a user's file gives is checked
// with this first.
#include <concepts>
#include <cstdint>
#include <limits>

namespace thaw {

template <std::integral T, typename Json>
bool json_holds(const Json& v) {
  if (v.is_number_unsigned()) {
    return v.template get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  }
  if (!v.is_number_integer()) return false;  // fractions, strings, null, ...
  const int64_t x = v.template get<int64_t>();
  if constexpr (std::is_signed_v<T>) {
    return x >= std::numeric_limits<T>::min() && x <= std::numeric_limits<T>::max();
  } else {
    return x >= 0 && static_cast<uint64_t>(x) <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  }
}

}  // namespace thaw
