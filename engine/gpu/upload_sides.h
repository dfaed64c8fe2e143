#pragma once
// Which of BatchUploads' two sides (engine/gpu/batch_uploads.h) each call uses, apart from the
// copies and events: pure bookkeeping, tested without a GPU (tests/engine/gpu/upload_sides_test.cc).
// A staged batch goes to the side the running step does not read; a step takes the staged side
// when its batch was staged, and otherwise a side no staged copy is writing.
#include <utility>

#include "core/error.h"

namespace thaw {

class UploadSides {
 public:
  // The side the next batch is copied into.
  int stage() {
    staged_ = 1 - current_;
    return staged_;
  }
  // The side this step reads: the staged one (which must exist) with `staged`, else the side away
  // from any staged copy (which is then given up: the step did not want it).
  int take(bool staged) {
    if (staged) {
      THAW_CHECK(staged_ >= 0, "a batch marked as staged was never staged");
      current_ = std::exchange(staged_, -1);
    } else {
      current_ = staged_ >= 0 ? 1 - staged_ : current_;
      staged_ = -1;
    }
    return current_;
  }
  // The staged batch will not be read (its samples come from the feature cache).
  void discard() { staged_ = -1; }
  int current() const { return current_; }  // the side the running (or last) step reads
  int staged() const { return staged_; }    // -1: none

 private:
  int current_ = 0;
  int staged_ = -1;
};

}  // namespace thaw
