#include "io/test_split.h"

#include <vector>

#include "core/error.h"
#include "io/split.h"

namespace thaw {

void split_off_test(ImageManifest& m, double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction < 1)) fail_user("--test-fraction: expected a value in (0, 1), got ", fraction);
  for (const ImageRecord& r : m.records) {
    if (r.split == DataSplit::Test) {
      fail_user("--test-fraction: ", m.source, " already names a test split (line ", r.line,
                "); drop --test-fraction or the test rows");
    }
  }
  // The carving below refuses a manifest with validation rows: park them as test meanwhile (there
  // are no test rows to confuse them with), and bring them back afterwards.
  std::vector<size_t> parked;
  for (size_t i = 0; i < m.records.size(); ++i) {
    if (m.records[i].split == DataSplit::Val) {
      m.records[i].split = DataSplit::Test;
      parked.push_back(i);
    }
  }
  split_off_validation(m, fraction, seed);
  for (ImageRecord& r : m.records) {
    if (r.split == DataSplit::Val) r.split = DataSplit::Test;
  }
  for (size_t i : parked) m.records[i].split = DataSplit::Val;
}

}  // namespace thaw
