// scripts/import-nsfwjs without the network: a synthetic nsfwjs-like package (tests/cli/fake_nsfwjs.py:
// Keras' InceptionV3 topology with its layers numbered in a random order, uint8-quantised weights in
// base64 shards) must import to exactly the values its generator expects, and thaw must then compute
// the numpy forward's features; every bad input is one line and exit 2.
#include <string>

#include <gtest/gtest.h>

#include "io/safetensors.h"
#include "tests/cli/nsfwjs_support.h"

namespace thaw::testing {
namespace {

constexpr int kUserErrorExit = 2;

#define REQUIRE_NUMPY()                                                                      \
  do {                                                                                       \
    if (!python_has("numpy")) GTEST_SKIP() << kPython << " with numpy is missing (scripts/setup)"; \
  } while (0)

// Imports the synthetic package in `dir` (made with `make_args`) with its own recorded hashes.
CommandResult import_fake(const ScratchDir& dir, const std::string& make_args) {
  run_ok(fake_package() + " make " + sh_quote(dir / "pkg") + " " + make_args, dir);
  const std::string cmd = importer() + " --package " + sh_quote(dir / "pkg/nsfwjs-4.3.0.tgz") + " --expect-hashes " +
                          sh_quote(dir / "pkg/hashes.json") + " --out-dir " + sh_quote(dir / "imported");
  return run_command(cmd, dir);
}

// Exit 2 and one line starting with the importer's name; returns the line.
std::string one_line_error(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, kUserErrorExit) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  const std::string line = trim_right(r.err);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.rfind("import-nsfwjs: ", 0), 0u) << line;
  return line;
}

TEST(ImportNsfwjs, MapsASyntheticPackageByItsTopology) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  const CommandResult r = import_fake(dir, "--div 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  run_ok(fake_package() + " check " + sh_quote(dir / "pkg") + " " + sh_quote(dir / "imported"), dir);
  const SafeTensorsFile f = SafeTensorsFile::read(dir / "imported/inception_v3.safetensors");
  EXPECT_EQ(f.metadata().at("arch"), "inception_v3");
  EXPECT_EQ(f.metadata().at("thaw_avgpool_count_pad"), "false");
  EXPECT_EQ(f.metadata().at("thaw_bn_eps"), "0.001");
  EXPECT_EQ(f.metadata().at("source_version"), "4.3.0");
  EXPECT_NE(read_text(dir / "pkg/hashes.json").find(f.metadata().at("source_tarball_sha256")), std::string::npos);
  EXPECT_EQ(f.metadata().at("source_head_not_imported"), "average_pooling2d_10,flatten_1,dense_1");
  EXPECT_FALSE(f.has("fc.weight"));
  EXPECT_EQ(f.info("Mixed_5b.branch5x5_2.conv.weight").shape, (Shape{4, 3, 5, 5}));  // 64/16 from 48/16
}

// Full width at 75 x 75: thaw (with the file's no-padding average pools) against the numpy forward
// of the decoded Keras model; the other pooling rule would be far off.
TEST(ImportNsfwjs, ThawMatchesTheNumpyForwardOfTheKerasModel) {
  REQUIRE_NUMPY();
  if (!python_has("numpy, PIL")) GTEST_SKIP() << kPython << " with PIL is missing (scripts/setup)";
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw is not built";
  ScratchDir dir;
  const CommandResult r = import_fake(dir, "--div 1 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  run_ok("cd " + sh_quote(dir.path().string()) + " && " + sh_quote(kPython) + " -c \"import numpy as np; from PIL import Image; g = np.random.default_rng(5); "
             "Image.fromarray(g.integers(0, 256, (90, 80, 3), dtype=np.uint8)).save('img0.png')\"",
         dir);
  run_ok("cd " + sh_quote(dir.path().string()) + " && " + sh_quote(kPython) + " " +
             sh_quote(source_path("scripts/nsfwjs_parity.py")) + " --import-dir imported --out . --size 75 img0.png",
         dir);
  const std::vector<double> err = relative_errors(thaw_features(dir / "features.safetensors", dir), dir / "reference.npy");
  ASSERT_EQ(err.size(), 1u);
  for (double e : err) EXPECT_LT(e, 1e-4);

  // The same tensors under timm's rule (padded cells counted) give other features.
  run_ok("cd " + sh_quote(dir.path().string()) + " && " + sh_quote(kPython) + " -c \"import sys; sys.path.insert(0, '" +
             source_path("scripts") + "'); import json, struct; from safetensors_np import load_safetensors, save_safetensors; "
             "f = open('features.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]; "
             "m = json.loads(f.read(n))['__metadata__']; m['thaw_avgpool_count_pad'] = 'true'; "
             "save_safetensors(load_safetensors('features.safetensors'), 'counted.safetensors', m)\"",
         dir);
  const std::string counted = thaw_features((dir.path() / "counted.safetensors").string(), dir);
  for (double e : relative_errors(counted, dir / "reference.npy")) EXPECT_GT(e, 1e-2);
}

TEST(ImportNsfwjs, MissingNpmIsOneLine) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  const CommandResult r =
      run_command("PATH=/nonexistent " + importer() + " --out-dir " + sh_quote(dir / "imported"), dir);
  const std::string line = one_line_error(r);
  EXPECT_NE(line.find("npm not found on PATH: install Debian's (apt-get install npm)"), std::string::npos) << line;
}

// Run by a python without numpy (the pyenv python3 on some PATHs, or before scripts/setup): one line
// naming that python, not a traceback. numpy is hidden from /usr/bin/python3 for the test.
TEST(ImportNsfwjs, PythonWithoutNumpyIsOneLine) {
  ScratchDir dir;
  const CommandResult r = run_command(
      sh_quote(kPython) + " -c \"import runpy, sys; sys.modules['numpy'] = None; " +
          "sys.argv = ['import-nsfwjs', '--out-dir', '" + dir / "imported" + "']; runpy.run_path('" +
          source_path("scripts/import-nsfwjs") + "', run_name='__main__')\"",
      dir);
  const std::string line = one_line_error(r);
  EXPECT_NE(line.find(" has no numpy: run it with Debian's /usr/bin/python3 and its python3-numpy"),
            std::string::npos)
      << line;
}

TEST(ImportNsfwjs, OtherFileHashesAreRefused) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  run_ok(fake_package() + " make " + sh_quote(dir / "pkg"), dir);
  // The recorded hashes are nsfwjs@4.3.0's: the synthetic package is not it.
  const CommandResult r = run_command(
      importer() + " --package " + sh_quote(dir / "pkg/nsfwjs-4.3.0.tgz") + " --out-dir " + sh_quote(dir / "out"), dir);
  const std::string line = one_line_error(r);
  EXPECT_NE(line.find("differs from the recorded 4496790efc9bdc6f"), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(dir / "out/inception_v3.safetensors"));
}

// The tarball's hash as recorded but one model file's not (a record edited, or a file swapped by a
// tool that kept the tarball): the file is named with both hashes, and nothing is written.
TEST(ImportNsfwjs, AModelFileWithAnotherHashIsRefused) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  run_ok(fake_package() + " make " + sh_quote(dir / "pkg"), dir);
  const std::string hashes = dir / "pkg/hashes.json";
  run_ok(sh_quote(kPython) + " -c \"import json; p = '" + hashes + "'; h = json.load(open(p)); " +
             "h['files']['group1-shard2of4.min.js'] = '0' * 64; json.dump(h, open(p, 'w'))\"",
         dir);
  const CommandResult r = run_command(importer() + " --package " + sh_quote(dir / "pkg/nsfwjs-4.3.0.tgz") +
                                          " --expect-hashes " + sh_quote(hashes) + " --out-dir " + sh_quote(dir / "out"),
                                      dir);
  const std::string line = one_line_error(r);
  EXPECT_NE(line.find("package/dist/models/inception_v3/group1-shard2of4.min.js has SHA-256 "), std::string::npos)
      << line;
  EXPECT_NE(line.find(", recorded " + std::string(64, '0')), std::string::npos) << line;
  EXPECT_FALSE(std::filesystem::exists(dir / "out/inception_v3.safetensors"));
}

TEST(ImportNsfwjs, ManifestShapeBeyondTheShardsIsOneLine) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  const std::string line = one_line_error(import_fake(dir, "--bad-bytes"));
  EXPECT_NE(line.find("tensors need"), std::string::npos) << line;
  EXPECT_NE(line.find("bytes by their shapes, the shards hold"), std::string::npos) << line;
}

TEST(ImportNsfwjs, KernelShapeThatItsLayerCannotHaveIsOneLine) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  const std::string line = one_line_error(import_fake(dir, "--bad-shape"));
  EXPECT_NE(line.find("/kernel has shape"), std::string::npos) << line;
  EXPECT_NE(line.find("filters on"), std::string::npos) << line;
}

TEST(ImportNsfwjs, ConcatInAnotherOrderIsOneLine) {
  REQUIRE_NUMPY();
  ScratchDir dir;
  const std::string line = one_line_error(import_fake(dir, "--swap-concat mixed5"));
  EXPECT_NE(line.find("Mixed_6c (mixed5, concat mixed5) input 1: expected branch7x7_3 (conv 7x1"), std::string::npos)
      << line;
}

// A v3 file given to a v4 run, and the reverse: one line naming both architectures.
TEST(ImportNsfwjs, WeightsOfTheOtherArchitectureAreOneLine) {
  REQUIRE_NUMPY();
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw is not built";
  ScratchDir dir;
  ASSERT_EQ(import_fake(dir, "--div 16").exit_code, 0);
  run_ok(sh_quote(kPython) + " -c \"import numpy as np; np.save('" + dir / "x.npy" +
             "', np.zeros((1, 3, 75, 75), np.float32))\"",
         dir);
  const std::string v3 = dir / "imported/inception_v3.safetensors";
  CommandResult r = run_command(sh_quote(THAW_BINARY) + " predict --weights " + sh_quote(v3) + " --input " +
                                    sh_quote(dir / "x.npy") + " --output " + sh_quote(dir / "y.npy"),
                                dir);
  EXPECT_EQ(r.exit_code, kUserErrorExit);
  EXPECT_EQ(trim_right(r.err), "thaw: error: --weights " + v3 + ": holds inception_v3 weights (its metadata says "
                               "arch inception_v3) but --arch is inception_v4; give --arch inception_v3 or other weights");
  // A timm-style v4 file without metadata is known by its tensor names.
  run_ok(sh_quote(kPython) + " -c \"import sys; sys.path.insert(0, '" + source_path("scripts") + "'); " +
             "import numpy as np; from safetensors_np import save_safetensors; "
             "save_safetensors({'features.0.conv.weight': np.zeros((32, 3, 3, 3), np.float32)}, '" +
             dir / "v4.safetensors" + "')\"",
         dir);
  r = run_command(sh_quote(THAW_BINARY) + " predict --arch inception_v3 --weights " + sh_quote(dir / "v4.safetensors") +
                      " --input " + sh_quote(dir / "x.npy") + " --output " + sh_quote(dir / "y.npy"),
                  dir);
  EXPECT_EQ(r.exit_code, kUserErrorExit);
  EXPECT_NE(r.err.find("holds inception_v4 weights (it has the tensor features.0.conv.weight) but --arch is "
                       "inception_v3"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(trim_right(r.err).find('\n'), std::string::npos);
}

// thaw train and thaw sweep refuse the other architecture's file before any work: one line, no run
// or sweep folder (the sweep asks once, not once per arm).
TEST(ImportNsfwjs, TrainAndSweepRefuseTheOtherArchitectureBeforeAnyWork) {
  REQUIRE_NUMPY();
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw is not built";
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  }
  ScratchDir dir;
  const std::string v4 = dir / "v4.safetensors";
  run_ok(sh_quote(kPython) + " -c \"import sys; sys.path.insert(0, '" + source_path("scripts") + "'); " +
             "import numpy as np; from safetensors_np import save_safetensors; "
             "save_safetensors({'features.0.conv.weight': np.zeros((32, 3, 3, 3), np.float32)}, '" + v4 + "')\"",
         dir);
  const std::string want = "thaw: error: --weights " + v4 + ": holds inception_v4 weights (it has the tensor "
                           "features.0.conv.weight) but --arch is inception_v3; give --arch inception_v4 or other weights";
  const std::string common = " --arch inception_v3 --data fashion-mnist --input-size 75 --weights " + sh_quote(v4);
  CommandResult r = run_command(sh_quote(THAW_BINARY) + " train" + common + " --out " + sh_quote(dir / "run"), dir);
  EXPECT_EQ(r.exit_code, kUserErrorExit);
  EXPECT_EQ(trim_right(r.err), want);
  EXPECT_FALSE(std::filesystem::exists(dir / "run"));
  r = run_command(sh_quote(THAW_BINARY) + " sweep" + common + " --val-fraction 0.1 --freeze-through Mixed_7c,Mixed_6e" +
                      " --out " + sh_quote(dir / "sweep"),
                  dir);
  EXPECT_EQ(r.exit_code, kUserErrorExit);
  EXPECT_EQ(trim_right(r.err), want);
  EXPECT_FALSE(std::filesystem::exists(dir / "sweep"));
}

}  // namespace
}  // namespace thaw::testing
