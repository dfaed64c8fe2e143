#include "io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io/float16.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

std::vector<uint8_t> raw(const SafeTensorInfo& i) { return {i.bytes.begin(), i.bytes.end()}; }

template <typename T>
std::vector<uint8_t> raw_of(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(SafeTensors, RoundTripsEveryDtypeShapeAndMetadata) {
  ScratchDir dir;
  const std::vector<float> f32 = {1.5f, -2.25f, 3.0f, 0.0f, 1e-30f, -7.0f};
  const std::vector<double> f64 = {0.1, -1e300};
  const std::vector<uint16_t> f16 = {float_to_half(0.5f), float_to_half(-1.25f), float_to_half(65504.0f)};
  const std::vector<uint16_t> bf16 = {float_to_bf16(3.0f), float_to_bf16(-0.375f)};
  const std::vector<int32_t> i32 = {-5, 7, 2147483647};
  const std::vector<uint8_t> u8 = {0, 9, 255, 3};

  SafeTensorsWriter w;
  w.add("features.0.conv.weight", DType::F32, {3, 2}, f32.data());
  w.add("features.0.bn.num_batches_tracked", DType::I64, {}, std::vector<int64_t>{12345}.data());
  w.add("d", DType::F64, {2}, f64.data());
  w.add("h", DType::F16, {1, 3}, f16.data());
  w.add("b", DType::BF16, {2, 1}, bf16.data());
  w.add("i", DType::I32, {3}, i32.data());
  w.add("u", DType::U8, {2, 2}, u8.data());
  w.add("empty", DType::F32, {0, 4}, nullptr);
  w.add_int64_scalar("neg", -3);
  w.set_metadata("format", "pt");
  w.set_metadata("thaw.step", "17");
  const auto path = dir / "all.safetensors";
  w.write(path);
  EXPECT_EQ(slurp(path), w.serialize());

  const auto f = SafeTensorsFile::read(path);
  EXPECT_EQ(f.origin(), path.string());
  EXPECT_THAT(f.names(), ElementsAre("features.0.conv.weight", "features.0.bn.num_batches_tracked", "d", "h", "b",
                                     "i", "u", "empty", "neg"));
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"thaw.step", "17"}}));

  EXPECT_EQ(f.info("features.0.conv.weight").dtype, DType::F32);
  EXPECT_EQ(f.info("features.0.conv.weight").shape, (Shape{3, 2}));
  EXPECT_EQ(f.to_float("features.0.conv.weight"), f32);
  EXPECT_EQ(raw(f.info("features.0.conv.weight")), raw_of(f32));

  EXPECT_EQ(f.info("features.0.bn.num_batches_tracked").dtype, DType::I64);
  EXPECT_EQ(f.info("features.0.bn.num_batches_tracked").shape, Shape{});
  EXPECT_THAT(f.to_int64("features.0.bn.num_batches_tracked"), ElementsAre(12345));
  EXPECT_THAT(f.to_int64("neg"), ElementsAre(-3));

  EXPECT_EQ(f.to_double("d"), f64);
  EXPECT_THAT(f.to_float("d"), ElementsAre(0.1f, -std::numeric_limits<float>::infinity()));
  EXPECT_THAT(f.to_float("h"), ElementsAre(0.5f, -1.25f, 65504.0f));
  EXPECT_EQ(raw(f.info("h")), raw_of(f16));
  EXPECT_THAT(f.to_double("b"), ElementsAre(3.0, -0.375));
  EXPECT_EQ(f.info("b").shape, (Shape{2, 1}));
  EXPECT_THAT(f.to_int64("i"), ElementsAre(-5, 7, 2147483647));
  EXPECT_THAT(f.to_int64("u"), ElementsAre(0, 9, 255, 3));
  EXPECT_EQ(f.info("empty").shape, (Shape{0, 4}));
  EXPECT_TRUE(f.to_float("empty").empty());

  EXPECT_TRUE(f.has("d"));
  EXPECT_FALSE(f.has("D"));
}

TEST(SafeTensors, KeepsInsertionOrderInHeaderAndData) {
  SafeTensorsWriter w;
  const float z = 9.0f, a = 1.0f, m = 5.0f;
  w.add("z.weight", DType::F32, {1}, &z);
  w.add("a.weight", DType::F32, {1}, &a);
  w.add("m.weight", DType::F32, {1}, &m);
  const std::string bytes = w.serialize();
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ((8 + header_len) % 8, 0u);  // data section aligned
  const std::string header = bytes.substr(8, header_len);
  EXPECT_LT(header.find("z.weight"), header.find("a.weight"));
  EXPECT_LT(header.find("a.weight"), header.find("m.weight"));
  // The data follow the same order.
  float data[3];
  std::memcpy(data, bytes.data() + 8 + header_len, sizeof data);
  EXPECT_THAT(data, ElementsAre(9.0f, 1.0f, 5.0f));
  const auto f = SafeTensorsFile::parse(bytes, "mem");
  EXPECT_THAT(f.names(), ElementsAre("z.weight", "a.weight", "m.weight"));
  EXPECT_TRUE(f.metadata().empty());
}

TEST(SafeTensors, TensorAccessorsCheckShapeAndDtype) {
  SafeTensorsWriter w;
  Tensor<float> t({2, 3});
  for (int i = 0; i < 6; ++i) t[i] = static_cast<float>(i) - 2.5f;
  w.add("fc.weight", t);
  Tensor<double> d({2});
  d[0] = 1e-200;
  d[1] = 4.0;
  w.add("fc.bias", d);
  w.add_int64_scalar("steps", 3);
  const auto f = SafeTensorsFile::parse(w.serialize(), "ckpt.safetensors");

  const Tensor<float> back = f.tensor_float("fc.weight", {2, 3});
  EXPECT_EQ(back.shape(), (Shape{2, 3}));
  EXPECT_THAT(back.span(), ElementsAre(-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f));
  const Tensor<double> bias = f.tensor_double("fc.bias");
  EXPECT_THAT(bias.span(), ElementsAre(1e-200, 4.0));

  EXPECT_EQ(user_error_of([&] { f.tensor_float("fc.weight", {1000, 3}); }),
            "ckpt.safetensors: tensor 'fc.weight' has shape [2, 3], expected [1000, 3]");
  EXPECT_EQ(user_error_of([&] { f.info("fc.missing"); }), "ckpt.safetensors: no tensor named 'fc.missing'");
  EXPECT_THAT(user_error_of([&] { f.to_float("steps"); }),
              HasSubstr("ckpt.safetensors: tensor 'steps' has dtype I64, expected a float dtype"));
  EXPECT_THAT(user_error_of([&] { f.to_int64("fc.bias"); }),
              HasSubstr("ckpt.safetensors: tensor 'fc.bias' has dtype F64, expected an integer dtype"));
}

TEST(SafeTensors, WriterRejectsProgrammingErrors) {
  SafeTensorsWriter w;
  const float x = 1.0f;
  w.add("x", DType::F32, {1}, &x);
  EXPECT_THROW(w.add("x", DType::F32, {1}, &x), InternalError);
  EXPECT_THROW(w.add("__metadata__", DType::F32, {1}, &x), InternalError);
  EXPECT_THROW(w.add("y", DType::F32, {-1}, &x), InternalError);
  EXPECT_EQ(w.size(), 1u);
}

// A file with the given header text and `data_len` bytes of data, as a hand-made writer would.
std::string make_file(const std::string& header, size_t data_len) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data_len, '\x01');
}

struct Malformed {
  const char* what;
  std::string bytes;
  const char* expected;  // a part of the message
};

TEST(SafeTensors, MalformedFilesAreUserErrorsNamingTheFile) {
  std::string long_len(8, '\0');
  long_len[0] = static_cast<char>(200);
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::vector<Malformed> cases = {
      {"empty", "", "file is 0 bytes, too short"},
      {"short", "abc", "file is 3 bytes, too short"},
      {"header past end", long_len + "{}", "header length 200 runs past the end of the file (10 bytes)"},
      {"bad json", make_file(R"({"a":{"dtype":"F32",)", 0), "malformed JSON header"},
      {"not an object", make_file("[1,2]", 0), "header is not a JSON object"},
      {"entry not object", make_file(R"({"a":3})", 0), "entry for tensor 'a' is not a JSON object"},
      {"unknown dtype", make_file(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8),
       "tensor 'a' has unsupported dtype 'C64', expected one of F32, F64, F16, BF16, I64, I32, U8"},
      {"missing dtype", make_file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), "tensor 'a' has no string \"dtype\""},
      {"negative shape", make_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
       "tensor 'a' has a shape entry that is not a non-negative integer: -1"},
      {"fractional shape", make_file(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4),
       "not a non-negative integer: 1.5"},
      {"bad offsets", make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
       "tensor 'a' has no \"data_offsets\" pair"},
      {"offsets past data", make_file("{" + ok_entry + "}", 4),
       "tensor 'a' has data_offsets [0, 8] outside the data section of 4 bytes"},
      {"reversed offsets", make_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 4),
       "data_offsets [4, 0] outside"},
      {"size mismatch", make_file(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", 8),
       "tensor 'a' has 8 bytes, expected 16 for F64 [2]"},
      {"overflowing shape",
       make_file(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
       "expected an impossible size"},
      {"overlap",
       make_file("{" + ok_entry + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
       "tensors 'a' and 'b' overlap (bytes [0, 8) and [4, 12))"},
      {"hole", make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "data section has a hole at bytes [0, 4) before tensor 'a'"},
      {"trailing data", make_file("{" + ok_entry + "}", 12), "data section has 12 bytes but the tensors cover only 8"},
      {"duplicate", make_file("{" + ok_entry + "," + ok_entry + "}", 8), "tensor 'a' appears twice"},
      {"metadata not strings", make_file(R"({"__metadata__":{"step":3}})", 0),
       "__metadata__ value for 'step' is not a string"},
  };
  ScratchDir dir;
  for (const Malformed& c : cases) {
    const auto path = dir / "bad.safetensors";
    spit(path, c.bytes);
    const std::string msg = user_error_of([&] { SafeTensorsFile::read(path); });
    EXPECT_THAT(msg, HasSubstr(path.string() + ": ")) << c.what;
    EXPECT_THAT(msg, HasSubstr(c.expected)) << c.what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what << ": " << msg;
  }
}

TEST(SafeTensors, MissingFileNamesPathAndReason) {
  ScratchDir dir;
  const auto path = dir / "none.safetensors";
  EXPECT_EQ(user_error_of([&] { SafeTensorsFile::read(path); }),
            "cannot read " + path.string() + ": No such file or directory");
}

TEST(SafeTensors, TruncatedWriterOutputIsRejected) {
  SafeTensorsWriter w;
  const std::vector<float> v(16, 2.0f);
  w.add("v", DType::F32, {16}, v.data());
  const std::string full = w.serialize();
  EXPECT_NO_THROW(SafeTensorsFile::parse(full, "full"));
  EXPECT_THAT(user_error_of([&] { SafeTensorsFile::parse(full.substr(0, full.size() - 1), "cut.safetensors"); }),
              HasSubstr("cut.safetensors: tensor 'v' has data_offsets [0, 64] outside the data section of 63 bytes"));
  EXPECT_THAT(user_error_of([&] { SafeTensorsFile::parse(full.substr(0, 20), "cut.safetensors"); }),
              HasSubstr("cut.safetensors: header length"));
}

}  // namespace
}  // namespace thaw
