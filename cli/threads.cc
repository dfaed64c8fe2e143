#include <omp.h>

#include "cli/commands.h"
#include "core/error.h"

namespace thaw::cli {

void check_threads(int threads) {
  if (threads < 0) fail_user("--threads: expected 0 (all cores) or a positive count, got ", threads);
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace thaw::cli
