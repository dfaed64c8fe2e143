#pragma once
// Runs a body once per rank, each rank on its own thread with its own ThreadComm, and turns a
// failing rank into one error for the caller, never a hang.
#include <chrono>
#include <functional>

#include "engine/parallel/comm.h"

namespace thaw {

// Returns when every rank's body has returned. When a body throws, the group is aborted (the
// other ranks' waits end at once) and, after all have stopped, the first rank's own error is
// rethrown with "rank r: " in front: a UserError stays a UserError (exit 2), a RankFailure stays
// one, anything else becomes an InternalError. A rank that does not return within `timeout`
// after the group was aborted cannot be stopped from outside: the process then exits (code 1)
// with a message naming it, rather than hang.
void run_thread_ranks(int ranks, std::chrono::milliseconds timeout, const std::function<void(Comm&)>& body);

}  // namespace thaw
