// Interoperability with files made by Python (Debian's numpy and torch): the safetensors package is
// not installed, so the Python side reads and writes the format by hand with json and struct.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/float16.h"
#include "io/safetensors.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using testing::run_python;
using testing::ScratchDir;

constexpr const char* kWriteScript = R"PY(
import json, struct
import numpy as np
import torch

def save(path, items, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name, dtype, shape, blob in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)

g = torch.Generator().manual_seed(7)
# Magnitudes from 1e-9 (half subnormals, and below) to 1e6 (past the half range), both signs.
x = torch.randn(64, 64, generator=g) * torch.logspace(-9, 6, 64)[None, :]
def bits16(t):
    return t.view(torch.int16).numpy().tobytes()
items = [
    ("x.f32", "F32", x.shape, x.numpy().astype("<f4").tobytes()),
    ("x.f16", "F16", x.shape, bits16(x.half())),
    ("x.bf16", "BF16", x.shape, bits16(x.bfloat16())),
    ("expect.f16", "F32", x.shape, x.half().float().numpy().tobytes()),
    ("expect.bf16", "F32", x.shape, x.bfloat16().float().numpy().tobytes()),
    ("x.f64", "F64", x.shape, x.double().numpy().tobytes()),
    ("features.3.bn.num_batches_tracked", "I64", [], torch.tensor(123456789012).numpy().tobytes()),
    ("i32", "I32", [4], np.array([-1, 0, 2**31 - 1, -2**31], dtype="<i4").tobytes()),
    ("u8", "U8", [2, 3], bytes([0, 1, 2, 128, 254, 255])),
]
save("py.safetensors", items, {"format": "pt", "source": "torch " + torch.__version__})
)PY";

TEST(SafeTensorsPython, ReadsFileWrittenByTorch) {
  THAW_REQUIRE_PYTHON("numpy, torch");
  ScratchDir dir;
  ASSERT_EQ(run_python(dir, kWriteScript), 0);
  const auto f = SafeTensorsFile::read(dir / "py.safetensors");

  EXPECT_THAT(f.names(), ElementsAre("x.f32", "x.f16", "x.bf16", "expect.f16", "expect.bf16", "x.f64",
                                     "features.3.bn.num_batches_tracked", "i32", "u8"));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.info("x.f16").shape, (Shape{64, 64}));

  const std::vector<float> x = f.to_float("x.f32");
  ASSERT_EQ(x.size(), 4096u);
  // Our widening matches torch's exactly, and our narrowing produces torch's bits.
  EXPECT_EQ(f.to_float("x.f16"), f.to_float("expect.f16"));
  EXPECT_EQ(f.to_float("x.bf16"), f.to_float("expect.bf16"));
  const auto f16_bits = f.info("x.f16").bytes;
  const auto bf16_bits = f.info("x.bf16").bytes;
  int mismatched_half = 0, mismatched_bf16 = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const uint16_t h = static_cast<uint16_t>(f16_bits[2 * i] | (f16_bits[2 * i + 1] << 8));
    const uint16_t b = static_cast<uint16_t>(bf16_bits[2 * i] | (bf16_bits[2 * i + 1] << 8));
    mismatched_half += float_to_half(x[i]) != h;
    mismatched_bf16 += float_to_bf16(x[i]) != b;
  }
  EXPECT_EQ(mismatched_half, 0);
  EXPECT_EQ(mismatched_bf16, 0);

  const std::vector<double> x64 = f.to_double("x.f64");
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x64[i], static_cast<double>(x[i])) << i;

  EXPECT_EQ(f.info("features.3.bn.num_batches_tracked").shape, Shape{});
  EXPECT_THAT(f.to_int64("features.3.bn.num_batches_tracked"), ElementsAre(123456789012));
  EXPECT_THAT(f.to_int64("i32"), ElementsAre(-1, 0, 2147483647, -2147483648LL));
  EXPECT_THAT(f.to_int64("u8"), ElementsAre(0, 1, 2, 128, 254, 255));
}

TEST(SafeTensorsPython, TorchReadsFileWeWrite) {
  THAW_REQUIRE_PYTHON("numpy, torch");
  ScratchDir dir;
  SafeTensorsWriter w;
  const std::vector<float> f32 = {1.5f, -2.25f, 3.0f};
  const std::vector<float> src = {0.1f, -3.3f, 70000.0f};
  std::vector<uint16_t> f16, bf16;
  for (float v : src) {
    f16.push_back(float_to_half(v));
    bf16.push_back(float_to_bf16(v));
  }
  const std::vector<uint8_t> u8 = {7, 200};
  w.add("stem.conv.weight", DType::F32, {3, 1, 1, 1}, f32.data());
  w.add("stem.bn.num_batches_tracked", DType::I64, {}, std::vector<int64_t>{42}.data());
  w.add("half", DType::F16, {3}, f16.data());
  w.add("bf", DType::BF16, {3}, bf16.data());
  w.add("labels", DType::U8, {2}, u8.data());
  w.set_metadata("format", "pt");
  w.write(dir / "ours.safetensors");

  ASSERT_EQ(run_python(dir, R"PY(
import json, struct
import numpy as np
import torch
raw = open("ours.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
assert header.pop("__metadata__") == {"format": "pt"}
assert list(header) == ["stem.conv.weight", "stem.bn.num_batches_tracked", "half", "bf", "labels"], list(header)
def get(name, torch_dtype):
    e = header[name]
    b, end = e["data_offsets"]
    return torch.frombuffer(bytearray(data[b:end]), dtype=torch_dtype).reshape(e["shape"])
w = get("stem.conv.weight", torch.float32)
assert w.shape == (3, 1, 1, 1) and w.flatten().tolist() == [1.5, -2.25, 3.0]
nbt = get("stem.bn.num_batches_tracked", torch.int64)
assert nbt.shape == () and nbt.item() == 42
src = torch.tensor([0.1, -3.3, 70000.0])
assert torch.equal(get("half", torch.float16), src.half())
assert torch.equal(get("bf", torch.bfloat16), src.bfloat16())
assert get("labels", torch.uint8).tolist() == [7, 200]
)PY"),
            0);
}

}  // namespace
}  // namespace thaw
