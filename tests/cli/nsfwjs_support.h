#pragma once
// What the nsfwjs import tests share: running the importer and the Python helpers, and comparing
// thaw's pooled features with the independent numpy forward's.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/npy.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {

inline std::string source_path(const std::string& rel) { return std::string(THAW_SOURCE_DIR) + "/" + rel; }

inline std::string importer() { return sh_quote(kPython) + " " + sh_quote(source_path("scripts/import-nsfwjs")); }
inline std::string fake_package() {
  return sh_quote(kPython) + " " + sh_quote(source_path("tests/cli/fake_nsfwjs.py"));
}

inline bool python_has(const std::string& modules) {
  const std::string cmd = std::string(kPython) + " -c 'import " + modules + "' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs a helper that must succeed; its failure is the harness's, said with its output.
inline void run_ok(const std::string& cmd, const ScratchDir& dir) {
  const CommandResult r = run_command(cmd, dir);
  ASSERT_EQ(r.exit_code, 0) << describe(cmd, r);
}

// Per image: max |thaw - reference| / max |reference| over the features.
inline std::vector<double> relative_errors(const std::string& thaw_npy, const std::string& reference_npy) {
  const NpyArray a = read_npy(thaw_npy), b = read_npy(reference_npy);
  EXPECT_EQ(a.shape, b.shape);
  std::vector<double> out;
  if (a.shape != b.shape || b.shape.size() != 2) return out;
  const std::vector<double> x = a.to_double(), y = b.to_double();
  const int64_t n = b.shape[0], f = b.shape[1];
  for (int64_t i = 0; i < n; ++i) {
    double diff = 0, scale = 0;
    for (int64_t k = i * f; k < (i + 1) * f; ++k) {
      diff = std::max(diff, std::abs(x[k] - y[k]));
      scale = std::max(scale, std::abs(y[k]));
    }
    out.push_back(scale > 0 ? diff / scale : INFINITY);
  }
  return out;
}

// thaw predict with the identity head of nsfwjs_parity.py's features.safetensors: the logits are
// the pooled features.
inline std::string thaw_features(const std::string& weights, const ScratchDir& dir) {
  const std::string out = dir / "thaw.npy";
  run_ok(sh_quote(THAW_BINARY) + " predict --arch inception_v3 --classes 2048 --weights " + sh_quote(weights) +
             " --input " + sh_quote(dir / "inputs.npy") + " --output " + sh_quote(out),
         dir);
  return out;
}

}  // namespace thaw::testing
