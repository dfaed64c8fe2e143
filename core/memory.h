#pragma once
// What the machine can still give: a size from a flag or a file is compared with it before the
// allocation, so that a user's value ends in one line ("not enough memory for ...: 40.0 GiB asked,
// 21.3 available") instead of std::bad_alloc or the kernel's OOM killer.
#include <cstdint>
#include <string>
#include <string_view>

namespace thaw {

// MemAvailable from /proc/meminfo (what can be had without swapping), else physical memory.
int64_t available_memory_bytes();
std::string gib_text(int64_t bytes);  // "21.3 GiB"

// A UserError "not enough memory for <what>: N GiB asked, M GiB available<hint>" when `bytes`
// exceeds what is available.
void check_fits_in_memory(int64_t bytes, std::string_view what, std::string_view hint = {});

}  // namespace thaw
