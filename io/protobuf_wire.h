#pragma once
// The few protocol-buffer wire types TensorBoard's Event and Summary messages need, written by
// hand: libprotobuf would need the messages' .proto files in the tree, and thaw writes three
// messages of at most four fields. Field numbers are the caller's (engine/run/tensorboard_events).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace thaw::protobuf {

inline void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
inline void key(std::string& out, int field, int wire_type) { varint(out, (static_cast<uint64_t>(field) << 3) | wire_type); }

inline void int64_field(std::string& out, int field, int64_t v) {
  key(out, field, 0);
  varint(out, static_cast<uint64_t>(v));  // negative int64s take ten bytes, as the format says
}

inline void double_field(std::string& out, int field, double v) {
  key(out, field, 1);
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

inline void float_field(std::string& out, int field, float v) {
  key(out, field, 5);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

inline void bytes_field(std::string& out, int field, std::string_view v) {
  key(out, field, 2);
  varint(out, v.size());
  out.append(v);
}

}  // namespace thaw::protobuf
