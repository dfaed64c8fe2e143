#pragma once
// TFRecord framing, the container of TensorBoard's event files: each record is its length
// (uint64, little-endian), the masked CRC-32C of those 8 bytes, the payload, and the masked
// CRC-32C of the payload (uint32s, little-endian). The mask rotates the CRC right by 15 bits and
// adds 0xa282ead8, so a CRC of data that holds CRCs is not trivially related to them.
#include <cstdint>
#include <string>
#include <string_view>

namespace thaw {

// CRC-32C (Castagnoli, reflected, initial and final XOR 0xffffffff): "123456789" -> 0xe3069283.
uint32_t crc32c(std::string_view bytes);
uint32_t masked_crc32c(std::string_view bytes);

// Appends one framed record holding `payload` to `out`.
void append_tfrecord(std::string& out, std::string_view payload);

}  // namespace thaw
