#pragma once
// A whole file mapped read-only into memory (POSIX mmap), unmapped when the object goes away. The
// pages are shared with the page cache: reading a packed shard costs no copy and no read() call.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace thaw {

class MappedFile {
 public:
  MappedFile() = default;
  // A missing or unreadable file is a UserError naming the path and the OS reason.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(p_); }
  size_t size() const { return size_; }
  std::string_view bytes() const { return {static_cast<const char*>(p_), size_}; }

 private:
  void* p_ = nullptr;
  size_t size_ = 0;
};

}  // namespace thaw
