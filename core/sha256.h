#pragma once
// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto, for the hashes an auditor checks with
// `sha256sum`: files, data manifests, model states. Digests are lower-case hex, 64 characters.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace thaw {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t bytes);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Ends the hash; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::string_view bytes);
// Streams the file; an unreadable file is a UserError naming it.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace thaw
