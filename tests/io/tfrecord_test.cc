// TFRecord framing against the CRC-32C check value and a bit-by-bit CRC written from the
// polynomial (tests/support/tfevents_reader.h), and the protocol-buffer fields TensorBoard reads.
#include "io/tfrecord.h"

#include <gtest/gtest.h>

#include <string>

#include "io/protobuf_wire.h"
#include "tests/support/tfevents_reader.h"

namespace thaw {
namespace {

TEST(Tfrecord, Crc32cMatchesTheCheckValueAndABitwiseCrc) {
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);  // the Castagnoli CRC's published check value
  EXPECT_EQ(crc32c(""), 0u);
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (size_t n : {1u, 7u, 8u, 9u, 63u, 1000u}) {
    EXPECT_EQ(crc32c(std::string_view(bytes).substr(0, n)), testkit::bitwise_crc32c(std::string_view(bytes).substr(0, n)));
    EXPECT_EQ(masked_crc32c(std::string_view(bytes).substr(0, n)),
              testkit::bitwise_masked_crc32c(std::string_view(bytes).substr(0, n)));
  }
  // The mask: rotate right by 15, add 0xa282ead8 (mod 2^32).
  const uint32_t c = 0xe3069283u;
  EXPECT_EQ(masked_crc32c("123456789"), static_cast<uint32_t>(((c >> 15) | (c << 17)) + 0xa282ead8u));
}

TEST(Tfrecord, RecordsAreLengthPayloadAndTwoMaskedCrcs) {
  std::string file;
  append_tfrecord(file, "abc");
  append_tfrecord(file, "");
  ASSERT_EQ(file.size(), 16u + 3u + 16u);
  EXPECT_EQ(file.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(file.substr(12, 3), "abc");
  const uint32_t m = testkit::bitwise_masked_crc32c("abc");
  EXPECT_EQ(static_cast<unsigned char>(file[15]), m & 0xff);
  EXPECT_EQ(static_cast<unsigned char>(file[18]), m >> 24);
}

TEST(Tfrecord, EventFieldsReadBackThroughTheWireFormat) {
  std::string value, summary, event;
  protobuf::bytes_field(value, 1, "val/accuracy");
  protobuf::float_field(value, 2, 0.8125f);
  protobuf::bytes_field(summary, 1, value);
  protobuf::double_field(event, 1, 1796523313.25);
  protobuf::int64_field(event, 2, 300);  // two-byte varint
  protobuf::bytes_field(event, 5, summary);
  std::string file;
  append_tfrecord(file, event);
  const auto events = testkit::read_tfevents(file);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].wall_time, 1796523313.25);
  EXPECT_EQ(events[0].step, 300);
  ASSERT_EQ(events[0].values.size(), 1u);
  EXPECT_EQ(events[0].values[0].first, "val/accuracy");
  EXPECT_EQ(events[0].values[0].second, 0.8125f);
  // 300 as a varint: 0xac 0x02 after the key (field 2, wire type 0 -> 0x10).
  EXPECT_NE(event.find("\x10\xac\x02"), std::string::npos);
}

}  // namespace
}  // namespace thaw
