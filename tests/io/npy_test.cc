#include "io/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io/float16.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::run_python;
using testing::ScratchDir;
using testing::slurp;
using testing::spit;
using testing::user_error_of;

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  ScratchDir dir;
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-40f};
  const std::vector<double> f64 = {0.1, -1e300, 7.0};
  const std::vector<uint16_t> f16 = {float_to_half(0.5f), float_to_half(-3.0f)};
  const std::vector<int32_t> i32 = {-7, 2147483647};
  const std::vector<int64_t> i64 = {-9000000000000LL};
  const std::vector<uint8_t> u8 = {0, 128, 255, 1};

  write_npy(dir / "f32.npy", DType::F32, {2, 3}, f32.data());
  write_npy(dir / "f64.npy", DType::F64, {3}, f64.data());
  write_npy(dir / "f16.npy", DType::F16, {1, 2, 1}, f16.data());
  write_npy(dir / "i32.npy", DType::I32, {2}, i32.data());
  write_npy(dir / "i64.npy", DType::I64, {}, i64.data());
  write_npy(dir / "u8.npy", DType::U8, {2, 1, 1, 2}, u8.data());
  write_npy(dir / "empty.npy", DType::F32, {0, 3}, nullptr);

  const NpyArray a = read_npy(dir / "f32.npy");
  EXPECT_EQ(a.origin, (dir / "f32.npy").string());
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (Shape{2, 3}));
  EXPECT_EQ(a.to_float(), f32);
  EXPECT_EQ(read_npy(dir / "f64.npy").to_double(), f64);
  EXPECT_EQ(read_npy(dir / "f64.npy").shape, Shape{3});
  EXPECT_THAT(read_npy(dir / "f16.npy").to_float(), ElementsAre(0.5f, -3.0f));
  EXPECT_EQ(read_npy(dir / "f16.npy").shape, (Shape{1, 2, 1}));
  EXPECT_THAT(read_npy(dir / "i32.npy").to_int64(), ElementsAre(-7, 2147483647));
  const NpyArray scalar = read_npy(dir / "i64.npy");
  EXPECT_EQ(scalar.shape, Shape{});
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_THAT(scalar.to_int64(), ElementsAre(-9000000000000LL));
  EXPECT_THAT(read_npy(dir / "u8.npy").to_float(), ElementsAre(0.0f, 128.0f, 255.0f, 1.0f));
  EXPECT_EQ(read_npy(dir / "empty.npy").shape, (Shape{0, 3}));
  EXPECT_TRUE(read_npy(dir / "empty.npy").bytes.empty());
  EXPECT_THAT(user_error_of([&] { read_npy(dir / "f32.npy").to_int64(); }),
              HasSubstr("f32.npy: array has dtype <f4, expected an integer dtype"));
}

TEST(Npy, WritesNumpyLayout) {
  Tensor<float> t({2, 2});
  t[0] = 1;
  t[3] = -1;
  ScratchDir dir;
  write_npy(dir / "t.npy", t);
  const std::string bytes = slurp(dir / "t.npy");
  // The 60-character dict does not fit before byte 64, so the data start at 128.
  ASSERT_EQ(bytes.size(), 128u + 16u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8), 118);
  EXPECT_EQ(bytes.substr(10, 118).find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }   "), 0u);
  EXPECT_EQ(bytes[127], '\n');
  float back[4];
  std::memcpy(back, bytes.data() + 128, 16);
  EXPECT_THAT(back, ElementsAre(1.0f, 0.0f, 0.0f, -1.0f));
  // A one-element tuple needs its trailing comma to be a tuple in Python.
  const float one = 2.0f;
  EXPECT_NE(serialize_npy(DType::F32, {1}, &one).find("'shape': (1,), }"), std::string::npos);
  EXPECT_NE(serialize_npy(DType::F32, {}, &one).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, HugeHeaderUsesVersion2) {
  const Shape shape(25000, 1);  // "1, " x 25000 does not fit a 16-bit header length
  const float v = 4.5f;
  const std::string bytes = serialize_npy(DType::F32, shape, &v);
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ(bytes.size() % 64, 4u);
  const NpyArray a = parse_npy(bytes, "v2.npy");
  EXPECT_EQ(a.shape.size(), 25000u);
  EXPECT_THAT(a.to_float(), ElementsAre(4.5f));
}

std::string with_header(const std::string& dict, size_t data_len, char major = 1) {
  std::string out("\x93NUMPY", 6);
  out += major;
  out += '\0';
  const uint16_t n = static_cast<uint16_t>(dict.size());
  out.append(reinterpret_cast<const char*>(&n), 2);
  if (major != 1) out.append(2, '\0');
  return out + dict + std::string(data_len, '\0');
}

TEST(Npy, MalformedFilesAreUserErrorsNamingTheFile) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  struct Case {
    const char* what;
    std::string bytes;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", "not a .npy file"},
      {"bad magic", "PK\x03\x04 not numpy at all", "not a .npy file (no \\x93NUMPY magic"},
      {"version", with_header(ok, 8, 9), "unsupported .npy format version 9.0"},
      {"truncated header", with_header(ok, 0).substr(0, 30), "truncated .npy header"},
      {"truncated data", with_header(ok, 7), "data has 7 bytes, expected 8 for <f4 [2] (truncated)"},
      {"extra data", with_header(ok, 9), "data has 9 bytes, expected 8"},
      {"fortran", with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16),
       "Fortran order (fortran_order: True), expected C order"},
      {"big endian", with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8),
       "unsupported dtype '>f4', expected one of '<f4', '<f8', '<f2', '<i4', '<i8', '|u1'"},
      {"garbage header", with_header("{'descr' '<f4'}", 0), "malformed .npy header (expected ':')"},
      {"missing key", with_header("{'descr': '<f4', 'shape': (2,), }", 8), "needs 'descr', 'fortran_order' and 'shape'"},
      {"unknown key", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8),
       "unexpected key 'x'"},
      {"negative dim", with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8),
       "other than non-negative integers"},
      {"structured", with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8),
       "structured arrays are not supported"},
  };
  ScratchDir dir;
  for (const Case& c : cases) {
    const auto path = dir / "bad.npy";
    spit(path, c.bytes);
    const std::string msg = user_error_of([&] { read_npy(path); });
    EXPECT_THAT(msg, HasSubstr(path.string() + ": ")) << c.what;
    EXPECT_THAT(msg, HasSubstr(c.expected)) << c.what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what << ": " << msg;
  }
}

TEST(NpyPython, ReadsFilesWrittenByNumpy) {
  THAW_REQUIRE_PYTHON("numpy");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, R"PY(
import numpy as np
np.save("f4.npy", np.arange(24, dtype="<f4").reshape(2, 3, 4) / 8 - 1)
np.save("f8.npy", np.array([0.1, -2.5e-300, 3.0]))
np.save("f2.npy", np.array([[0.1, -65504.0]], dtype="<f2"))
np.save("i4.npy", np.array([-2**31, 5], dtype="<i4"))
np.save("i8.npy", np.array(2**40 + 3, dtype="<i8"))
np.save("u1.npy", np.array([0, 7, 255], dtype=np.uint8))
np.save("fortran.npy", np.asfortranarray(np.ones((2, 3), dtype="<f4")))
np.save("big.npy", np.ones(3, dtype=">f4"))
np.save("bool.npy", np.ones(3, dtype=bool))
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.array([1.0, 2.0], dtype="<f4"), version=(2, 0))
with open("v3.npy", "wb") as f:
    np.lib.format.write_array(f, np.array([[3]], dtype="<i8"), version=(3, 0))
)PY"),
            0);
  const NpyArray f4 = read_npy(dir / "f4.npy");
  EXPECT_EQ(f4.shape, (Shape{2, 3, 4}));
  const std::vector<float> v = f4.to_float();
  for (int i = 0; i < 24; ++i) EXPECT_EQ(v[i], i / 8.0f - 1.0f) << i;
  EXPECT_THAT(read_npy(dir / "f8.npy").to_double(), ElementsAre(0.1, -2.5e-300, 3.0));
  const NpyArray f2 = read_npy(dir / "f2.npy");
  EXPECT_EQ(f2.dtype, DType::F16);
  EXPECT_EQ(f2.shape, (Shape{1, 2}));
  EXPECT_THAT(f2.to_float(), ElementsAre(half_to_float(float_to_half(0.1f)), -65504.0f));
  EXPECT_THAT(read_npy(dir / "i4.npy").to_int64(), ElementsAre(-2147483648LL, 5));
  EXPECT_EQ(read_npy(dir / "i8.npy").shape, Shape{});
  EXPECT_THAT(read_npy(dir / "i8.npy").to_int64(), ElementsAre((1LL << 40) + 3));
  EXPECT_THAT(read_npy(dir / "u1.npy").to_int64(), ElementsAre(0, 7, 255));
  EXPECT_THAT(read_npy(dir / "v2.npy").to_float(), ElementsAre(1.0f, 2.0f));
  EXPECT_EQ(read_npy(dir / "v3.npy").shape, (Shape{1, 1}));
  EXPECT_THAT(read_npy(dir / "v3.npy").to_int64(), ElementsAre(3));

  EXPECT_THAT(user_error_of([&] { read_npy(dir / "fortran.npy"); }),
              HasSubstr((dir / "fortran.npy").string() + ": array is in Fortran order"));
  EXPECT_THAT(user_error_of([&] { read_npy(dir / "big.npy"); }), HasSubstr("unsupported dtype '>f4'"));
  EXPECT_THAT(user_error_of([&] { read_npy(dir / "bool.npy"); }), HasSubstr("unsupported dtype '|b1'"));
}

TEST(NpyPython, NumpyReadsFilesWeWrite) {
  THAW_REQUIRE_PYTHON("numpy");
  ScratchDir dir;
  Tensor<float> t({3, 2});
  for (int i = 0; i < 6; ++i) t[i] = 0.25f * static_cast<float>(i) - 1.0f;
  write_npy(dir / "t.npy", t);
  const std::vector<int64_t> i64 = {-1, 1LL << 50};
  write_npy(dir / "i64.npy", DType::I64, {2}, i64.data());
  const std::vector<uint8_t> u8 = {9};
  write_npy(dir / "u8.npy", DType::U8, {}, u8.data());
  ASSERT_EQ(run_python(dir, R"PY(
import numpy as np
t = np.load("t.npy")
assert t.dtype == np.float32 and t.shape == (3, 2), (t.dtype, t.shape)
assert (t == np.arange(6, dtype=np.float32).reshape(3, 2) * 0.25 - 1).all()
i = np.load("i64.npy")
assert i.dtype == np.int64 and i.tolist() == [-1, 2**50]
u = np.load("u8.npy")
assert u.dtype == np.uint8 and u.shape == () and int(u) == 9
# Byte for byte what numpy itself writes.
import io
buf = io.BytesIO()
np.save(buf, np.arange(6, dtype=np.float32).reshape(3, 2) * 0.25 - 1)
assert open("t.npy", "rb").read() == buf.getvalue()
)PY"),
            0);
}

}  // namespace
}  // namespace thaw
