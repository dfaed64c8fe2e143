#pragma once
// Ctrl-C and SIGTERM during training: while an InterruptGuard lives, the first SIGINT or SIGTERM
// only sets a flag; the training loop looks at it after each step, writes a checkpoint and ends
// cleanly. The handler is installed with SA_RESETHAND, so a second signal of the same kind finds
// the default action again and ends the process at once (without a checkpoint), as a user who
// presses Ctrl-C twice expects.
//
// The one piece of global mutable state: a signal handler receives only the signal number, so
// the flag it sets cannot live in an object it could be handed; it is a single
// `volatile std::sig_atomic_t` (the only type the C and C++ standards let a handler write),
// private to interrupt.cc and reachable only through the guard.
//
// A signal that is ignored when the guard is made (SIG_IGN: a background job of a
// non-interactive shell ignores SIGINT, `nohup` ignores SIGHUP) stays ignored, as shells expect.
#include <csignal>

namespace thaw {

class InterruptGuard {
 public:
  // Installs the handlers and clears the flag. Only one guard may be alive at a time (a second is
  // an InternalError).
  InterruptGuard();
  // Puts back the dispositions it found.
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // The first signal received (SIGINT or SIGTERM), 0 while none has come.
  int signal_received() const;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// "SIGINT", "SIGTERM", or "a signal" for any other.
const char* signal_name(int sig);

}  // namespace thaw
