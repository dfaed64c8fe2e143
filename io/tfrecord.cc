#include "io/tfrecord.h"

#include <boost/crc.hpp>

namespace thaw {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

uint32_t masked_crc32c(std::string_view bytes) {
  const uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

void append_tfrecord(std::string& out, std::string_view payload) {
  std::string length;
  put_le(length, payload.size(), 8);
  out += length;
  put_le(out, masked_crc32c(length), 4);
  out.append(payload);
  put_le(out, masked_crc32c(payload), 4);
}

}  // namespace thaw
