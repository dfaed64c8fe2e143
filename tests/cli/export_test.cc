// Weights out and in. `thaw export` writes a run's model as a timm state_dict: exactly the keys,
// shapes and dtypes of `timm.create_model('inception_v4', num_classes=K)`, checked against an
// independent PyTorch model with timm's names (scripts/torch_inception_v4.py) loading it with
// strict=True, and against thaw's own graph; a stopped run exports its checkpoint.
// `scripts/convert` turns a torch.save'd state dict into safetensors with the same bytes as the
// values written directly, which thaw loads as is (1000 classes: timm's inception_v4.tf_in1k
// layout).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "graph/inception_v4.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/idx_fixture.h"

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

std::string scripts_dir() { return std::string(THAW_SOURCE_DIR) + "/scripts"; }

// Runs a Python snippet with the reference module importable as `ref`; returns its stdout.
std::string run_python(const std::string& code, const ScratchDir& dir) {
  const std::string file = dir / "snippet.py";
  std::ofstream(file) << "import sys, json\nsys.path.insert(0, " << nlohmann::json(scripts_dir()).dump()
                      << ")\nimport numpy as np, torch\nimport torch_inception_v4 as ref\n"
                      << code;
  const CommandResult r = run_command(std::string(kPython) + " " + sh_quote(file), dir);
  EXPECT_EQ(r.exit_code, 0) << describe("python snippet", r);
  return r.out;
}

bool same_tensor_bytes(const SafeTensorsFile& a, const SafeTensorsFile& b, const std::string& name) {
  const SafeTensorInfo& x = a.info(name);
  const SafeTensorInfo& y = b.info(name);
  return x.dtype == y.dtype && x.shape == y.shape && x.bytes.size() == y.bytes.size() &&
         std::memcmp(x.bytes.data(), y.bytes.data(), x.bytes.size()) == 0;
}

class ExportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }
  // 4 images in batches of 2: 2 steps; mixed_7d and the head train.
  std::string train(const std::string& out, const std::string& extra = "") const {
    return std::string(THAW_BINARY) + " train --data " + sh_quote(dir_ / "idx") +
           " --input-size 75 --freeze-through mixed_7c --train-limit 4 --val-limit 2 --batch-size 2 --epochs 1"
           " --lr 0.05 --seed 3 --threads 2 --workers 1 --out " +
           sh_quote(dir_ / out) + " " + extra;
  }
  std::string export_cmd(const std::string& run, const std::string& out) const {
    return std::string(THAW_BINARY) + " export " + sh_quote(dir_ / run) + " --out " + sh_quote(dir_ / out);
  }
  ScratchDir dir_;
};

// `thaw export --onnx`: the ONNX model is written only when the reference model's logits match
// thaw's on the check images, carries the weights' metadata, and leaves no working files; an
// exporter that finds a difference writes nothing and the command says so in one line.
TEST_F(ExportCommand, OnnxIsCheckedAgainstThawAndCarriesTheMetadata) {
  ASSERT_EQ(run_command(train("run"), dir_).exit_code, 0);
  const std::string base = std::string(THAW_BINARY) + " export " + sh_quote(dir_ / "run");
  const CommandResult neither = run_command(base, dir_);
  EXPECT_EQ(neither.exit_code, 2) << describe("export without a file", neither);
  EXPECT_NE(neither.err.find("--out or --onnx"), std::string::npos) << neither.err;

  // An exporter whose reference disagrees: exit 3 with its report; nothing may be written.
  const std::string liar = dir_ / "liar.py";
  std::ofstream(liar) << "import json, sys\nprint(json.dumps({'images': 4, 'max_abs_logit_diff': 0.5, "
                         "'allowed': 0.0001}))\nsys.exit(3)\n";
  const CommandResult bad = run_command(base + " --onnx " + sh_quote(dir_ / "bad.onnx") + " --onnx-script " +
                                            sh_quote(liar), dir_);
  EXPECT_EQ(bad.exit_code, 2) << describe("export with a disagreeing reference", bad);
  EXPECT_NE(bad.err.find("the reference model by 0.5, the ONNX file run in numpy by not run"), std::string::npos)
      << bad.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "bad.onnx"));
  EXPECT_FALSE(fs::exists(dir_.path() / "bad.onnx.safetensors.tmp"));
  EXPECT_FALSE(fs::exists(dir_.path() / "bad.onnx.images.npy"));

  if (!python_has_torch() || std::system((std::string(kPython) + " -c 'import onnx' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << kPython << " cannot import torch, numpy and onnx: the ONNX export did not run";
  }
  const CommandResult r = run_command(base + " --onnx " + sh_quote(dir_ / "model.onnx"), dir_);
  ASSERT_EQ(r.exit_code, 0) << describe("export --onnx", r);
  std::printf("[onnx] %s", r.out.c_str());  // the measured differences, for the log
  EXPECT_NE(r.out.find("(ONNX opset 13, dynamic batch)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("on 4 check images its logits, run in numpy, are within"), std::string::npos) << r.out;
  const std::string onnx = read_text(dir_.path() / "model.onnx");
  EXPECT_GT(onnx.size(), 1000000u);  // the weights are in it
  for (const char* key : {"thaw_class_names", "thaw_preprocess", "thaw_input_size", "thaw_input"}) {
    EXPECT_NE(onnx.find(key), std::string::npos) << key;
  }
  for (const char* left : {"model.onnx.safetensors.tmp", "model.onnx.images.npy", "model.onnx.thaw-logits.npy",
                           "model.onnx.metadata.json", "model.onnx.log", "model.onnx.tmp"}) {
    EXPECT_FALSE(fs::exists(dir_.path() / left)) << left;
  }
}

TEST_F(ExportCommand, WritesExactlyTimmsStateDictForKClassesFromAStoppedOrCompleteRun) {
  const Graph g = build_inception_v4(75, 3, 0.0);

  // A stopped run exports its checkpoint, without the optimizer state.
  ASSERT_EQ(run_command(train("run", "--stop-at-step 1"), dir_).exit_code, 0);
  const CommandResult s = run_command(export_cmd("run", "early.safetensors"), dir_);
  ASSERT_EQ(s.exit_code, 0) << describe("export of a stopped run", s);
  EXPECT_NE(s.err.find("did not finish (1 of 2 steps); exported its newest checkpoint " +
                       (dir_ / "run/checkpoint-000000001.safetensors")),
            std::string::npos)
      << s.err;
  {
    const SafeTensorsFile out = SafeTensorsFile::read(dir_.path() / "early.safetensors");
    const SafeTensorsFile ckpt = SafeTensorsFile::read(dir_.path() / "run/checkpoint-000000001.safetensors");
    ASSERT_EQ(out.names().size(), g.tensors.size());
    for (const TensorSpec& spec : g.tensors) EXPECT_TRUE(same_tensor_bytes(out, ckpt, spec.name)) << spec.name;
    EXPECT_EQ(out.metadata().at("thaw_steps"), "1");
  }

  // The complete run: timm's keys in timm's order, F32 with I64 counters, the run's values.
  ASSERT_EQ(run_command(std::string(THAW_BINARY) + " train --resume " + sh_quote(dir_ / "run"), dir_).exit_code, 0);
  const CommandResult e = run_command(export_cmd("run", "model.safetensors"), dir_);
  ASSERT_EQ(e.exit_code, 0) << describe("export", e);
  EXPECT_EQ(e.err, "");
  {
    const SafeTensorsFile out = SafeTensorsFile::read(dir_.path() / "model.safetensors");
    const SafeTensorsFile weights = SafeTensorsFile::read(dir_.path() / "run/weights.safetensors");
    ASSERT_EQ(out.names().size(), g.tensors.size());
    for (size_t i = 0; i < g.tensors.size(); ++i) {
      const TensorSpec& spec = g.tensors[i];
      ASSERT_EQ(out.names()[i], spec.name);
      const SafeTensorInfo& info = out.info(spec.name);
      EXPECT_EQ(info.shape, spec.shape) << spec.name;
      EXPECT_EQ(info.dtype, spec.role == TensorRole::NumBatchesTracked ? DType::I64 : DType::F32) << spec.name;
      EXPECT_TRUE(same_tensor_bytes(out, weights, spec.name)) << spec.name;
    }
    EXPECT_EQ(out.metadata().at("format"), "pt");
    EXPECT_EQ(out.metadata().at("arch"), "inception_v4");
    EXPECT_EQ(out.metadata().at("thaw_steps"), "2");
    EXPECT_FALSE(out.metadata().contains("thaw_checkpoint"));
  }

  // Refused: a folder that is not a run, and a run whose weights changed after it finished.
  const CommandResult none = run_command(export_cmd("idx", "x.safetensors"), dir_);
  EXPECT_EQ(none.exit_code, 2) << describe("export of a non-run", none);
  EXPECT_NE(none.err.find("record.json"), std::string::npos) << none.err;
  {
    std::fstream f(dir_.path() / "run/weights.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x7f');
  }
  const CommandResult edited = run_command(export_cmd("run", "y.safetensors"), dir_);
  EXPECT_EQ(edited.exit_code, 2) << describe("export after an edit", edited);
  EXPECT_NE(edited.err.find(dir_ / "run/weights.safetensors" + ": changed since the run"), std::string::npos)
      << edited.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "y.safetensors"));

  // An independent PyTorch model with timm's names loads the export with strict=True: what
  // timm.create_model('inception_v4', num_classes=3).load_state_dict(...) checks.
  if (!python_has_torch())
    GTEST_SKIP() << kPython << " cannot import torch and numpy: the PyTorch key check did not run";
  const std::string report = run_python(
      "arrays = ref.load_safetensors(" + nlohmann::json(dir_ / "model.safetensors").dump() +
          ")\n"
          "model = ref.InceptionV4(3)\n"
          "sd = model.state_dict()\n"
          "dt = lambda t: str(t.dtype).replace('torch.', '')\n"
          "r = {'expected': len(sd), 'file': len(arrays),\n"
          "     'missing': [k for k in sd if k not in arrays],\n"
          "     'unexpected': [k for k in arrays if k not in sd],\n"
          "     'shape': [k for k in sd if k in arrays and list(arrays[k].shape) != list(sd[k].shape)],\n"
          "     'dtype': [k for k in sd if k in arrays and str(arrays[k].dtype) != dt(sd[k])],\n"
          "     'order': list(arrays) == list(sd)}\n"
          "model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)\n"
          "print(json.dumps(r))\n",
      dir_);
  const nlohmann::json r = nlohmann::json::parse(report);
  EXPECT_EQ(r["expected"], g.tensors.size());
  EXPECT_EQ(r["file"], r["expected"]);
  EXPECT_TRUE(r["missing"].empty()) << r["missing"];
  EXPECT_TRUE(r["unexpected"].empty()) << r["unexpected"];
  EXPECT_TRUE(r["shape"].empty()) << r["shape"];
  EXPECT_TRUE(r["dtype"].empty()) << r["dtype"];
  EXPECT_EQ(r["order"], true);
}

class ConvertScript : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch and numpy: scripts/convert needs them";
  }
  CommandResult convert(const std::string& in, const std::string& out) const {
    return run_command(std::string(kPython) + " " + sh_quote(scripts_dir() + "/convert") + " " + sh_quote(dir_ / in) +
                           " " + sh_quote(dir_ / out),
                       dir_);
  }
  ScratchDir dir_;
};

TEST_F(ConvertScript, APthStateDictBecomesSafetensorsThawLoadsAsIs) {
  // A random 1000-class state dict, the layout of timm's inception_v4.tf_in1k: written directly as
  // safetensors by the reference script, and saved by torch.save as a DataParallel training
  // checkpoint (under "state_dict", "module." keys, next to an epoch number).
  run_python(
      "sd = ref.random_state_dict(1000, 21)\n"
      "ref.save_safetensors(sd, " +
          nlohmann::json(dir_ / "direct.safetensors").dump() +
          ")\n"
          "t = {'module.' + k: torch.from_numpy(np.array(v)) for k, v in sd.items()}\n"
          "torch.save({'epoch': 9, 'state_dict': t}, " +
          nlohmann::json(dir_ / "ckpt.pth").dump() +
          ")\n"
          "np.save(" +
          nlohmann::json(dir_ / "x.npy").dump() + ", ref.random_images(1, 75, 4))\n",
      dir_);
  const CommandResult c = convert("ckpt.pth", "converted.safetensors");
  ASSERT_EQ(c.exit_code, 0) << describe("convert", c);
  EXPECT_NE(c.out.find("the state dict under \"state_dict\"; the \"module.\" prefix removed"), std::string::npos)
      << c.out;

  // The same names in the same order, the same dtypes, shapes and bytes as the direct file.
  const SafeTensorsFile a = SafeTensorsFile::read(dir_.path() / "converted.safetensors");
  const SafeTensorsFile b = SafeTensorsFile::read(dir_.path() / "direct.safetensors");
  ASSERT_EQ(a.names(), b.names());
  for (const std::string& n : a.names()) EXPECT_TRUE(same_tensor_bytes(a, b, n)) << n;
  EXPECT_EQ(a.info("features.0.bn.num_batches_tracked").dtype, DType::I64);
  EXPECT_EQ(a.info("last_linear.weight").shape, (Shape{1000, 1536}));

  // thaw loads it as it is: 1000 classes, no head replaced.
  const std::string cmd = std::string(THAW_BINARY) + " predict --weights " + sh_quote(dir_ / "converted.safetensors") +
                          " --classes 1000 --input " + sh_quote(dir_ / "x.npy") + " --output " +
                          sh_quote(dir_ / "y.npy") + " --threads 2";
  const CommandResult p = run_command(cmd, dir_);
  ASSERT_EQ(p.exit_code, 0) << describe(cmd, p);
  EXPECT_EQ(read_npy(dir_ / "y.npy").shape, (Shape{1, 1000}));
}

TEST_F(ConvertScript, KeepsHalfPrecisionDtypesAndRefusesWhatIsNotAStateDict) {
  run_python(
      "torch.save({'h': torch.tensor([1.5, -2.25], dtype=torch.float16),\n"
      "            'b': torch.tensor([[0.5], [-3.0]], dtype=torch.bfloat16),\n"
      "            'n': torch.tensor(7, dtype=torch.int64),\n"
      "            't': torch.arange(6, dtype=torch.float32).reshape(2, 3).t()},\n"
      "           " +
          nlohmann::json(dir_ / "half.pth").dump() +
          ")\n"
          "torch.save([1, 2], " +
          nlohmann::json(dir_ / "list.pth").dump() + ")\n",
      dir_);
  ASSERT_EQ(convert("half.pth", "half.safetensors").exit_code, 0);
  const SafeTensorsFile f = SafeTensorsFile::read(dir_.path() / "half.safetensors");
  EXPECT_EQ(f.names(), (std::vector<std::string>{"h", "b", "n", "t"}));
  EXPECT_EQ(f.info("h").dtype, DType::F16);
  EXPECT_EQ(f.to_float("h"), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(f.info("b").dtype, DType::BF16);
  EXPECT_EQ(f.info("b").shape, (Shape{2, 1}));
  EXPECT_EQ(f.to_float("b"), (std::vector<float>{0.5f, -3.0f}));
  EXPECT_EQ(f.info("n").shape, Shape{});
  EXPECT_EQ(f.to_int64("n"), std::vector<int64_t>{7});
  // A transposed (non-contiguous) tensor is written in its logical C order.
  EXPECT_EQ(f.to_float("t"), (std::vector<float>{0, 3, 1, 4, 2, 5}));

  const CommandResult l = convert("list.pth", "x.safetensors");
  EXPECT_EQ(l.exit_code, 2) << describe("convert a list", l);
  EXPECT_EQ(trim_right(l.err),
            "convert: error: " + (dir_ / "list.pth") + ": expected a state dict (names to tensors), found list");
  std::ofstream(dir_ / "text.pth") << "not a torch file\n";
  const CommandResult t = convert("text.pth", "x.safetensors");
  EXPECT_EQ(t.exit_code, 2) << describe("convert a text file", t);
  EXPECT_NE(t.err.find(dir_ / "text.pth" + ": not a PyTorch file"), std::string::npos) << t.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "x.safetensors"));
}

}  // namespace
}  // namespace thaw::testing
