// SHA-256 against the FIPS 180-4 example digests and across update boundaries.
#include "core/sha256.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"

namespace thaw {
namespace {

TEST(Sha256, MatchesTheStandardsExamples) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a': crosses many internal blocks, fed in uneven pieces.
  Sha256 h;
  const std::string piece(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    const size_t n = std::min(left, piece.size());
    h.update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, HashesAFileAndNamesAMissingOne) {
  const std::filesystem::path p = std::filesystem::path(::testing::TempDir()) / "thaw_sha256_test.bin";
  {
    std::ofstream out(p, std::ios::binary);
    out << "abc";
  }
  EXPECT_EQ(sha256_file_hex(p), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::filesystem::remove(p);
  try {
    sha256_file_hex(p);
    FAIL() << "a missing file hashed";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("thaw_sha256_test.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace thaw
