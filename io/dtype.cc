#include "io/dtype.h"

#include <array>

namespace thaw {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
  bool is_float;
};

constexpr std::array<DTypeInfo, 7> kDTypes{{
    {DType::F32, "F32", 4, true},
    {DType::F64, "F64", 8, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::I64, "I64", 8, false},
    {DType::I32, "I32", 4, false},
    {DType::U8, "U8", 1, false},
}};

// The table is in enum order, so the enum value is the index.
const DTypeInfo& info(DType t) { return kDTypes[static_cast<size_t>(t)]; }
constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < kDTypes.size(); ++i)
    if (static_cast<size_t>(kDTypes[i].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order());

}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
size_t dtype_size(DType t) { return info(t).size; }
bool dtype_is_float(DType t) { return info(t).is_float; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kDTypes)
    if (i.name == name) return i.type;
  return std::nullopt;
}

}  // namespace thaw
