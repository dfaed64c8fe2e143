// The imported nsfwjs@4.3.0 InceptionV3 (scripts/import-nsfwjs) in thaw against an independent numpy
// forward of the decoded Keras model (scripts/keras_forward.py): the 2048 pooled features of real
// photographs (python3-skimage's data images) and dermoscopy images agree to 1e-4 relative (max
// difference over the largest feature, per image). Skips until the weights have been imported
// (that needs the npm registry): models/nsfwjs-4.3.0 in the source tree, or $THAW_NSFWJS_DIR.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/cli/nsfwjs_support.h"

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data";

std::string import_dir() {
  const char* env = std::getenv("THAW_NSFWJS_DIR");
  return env && *env ? env : source_path("models/nsfwjs-4.3.0");
}

// Read in place: the project's copy, else shared/ beside the source tree (as CI lays it out).
std::string dermoscopy_dir() {
  const std::string project = "/work/shared/data/dermoscopy";
  return fs::exists(project) ? project : source_path("../shared/data/dermoscopy");
}

TEST(NsfwjsParity, PooledFeaturesOfRealImagesMatchKeras) {
  const std::string imported = import_dir();
  if (!fs::exists(imported + "/inception_v3.safetensors") || !fs::exists(imported + "/keras/weights.npz")) {
    GTEST_SKIP() << "no imported nsfwjs weights in " << imported
                 << ": run scripts/import-nsfwjs (it fetches nsfwjs@4.3.0 from the npm registry)";
  }
  if (!thaw_binary_exists()) GTEST_SKIP() << "thaw is not built";
  if (!python_has("numpy, PIL")) GTEST_SKIP() << kPython << " with numpy and PIL is missing (scripts/setup)";
  std::vector<std::string> images;
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"}) {
    const std::string p = std::string(kSkimageData) + "/" + name;
    if (!fs::exists(p)) GTEST_SKIP() << p << " is missing: install python3-skimage (scripts/setup)";
    images.push_back(p);
  }
  const std::string derm = dermoscopy_dir();
  for (const char* rel : {"isic2017_256px/ISIC-2017_Test_v2_Data/ISIC_0012086.jpg",
                          "isic2017_256px/ISIC-2017_Test_v2_Data/ISIC_0012092.jpg",
                          "isic2017_256px/ISIC-2017_Training_Data/ISIC_0000000.jpg",
                          "isic_uda1_fullres/images/ISIC_0000001.jpg"}) {
    const std::string p = derm + "/" + rel;
    if (!fs::exists(p)) GTEST_SKIP() << p << " is missing (shared/data/dermoscopy beside the source tree)";
    images.push_back(p);
  }
  ScratchDir dir;
  std::string cmd = sh_quote(kPython) + " " + sh_quote(source_path("scripts/nsfwjs_parity.py")) + " --import-dir " +
                    sh_quote(imported) + " --out " + sh_quote(dir.path().string()) + " --size 299";
  for (const std::string& p : images) cmd += " " + sh_quote(p);
  run_ok(cmd, dir);
  const std::vector<double> err = relative_errors(thaw_features(dir / "features.safetensors", dir), dir / "reference.npy");
  ASSERT_EQ(err.size(), images.size());
  for (size_t i = 0; i < err.size(); ++i) {
    std::printf("nsfwjs parity: %s: max |thaw - keras| / max |keras| = %.3g\n", images[i].c_str(), err[i]);
    EXPECT_LT(err[i], 1e-4) << images[i];
  }
}

}  // namespace
}  // namespace thaw::testing
