#include "engine/train/interrupt.h"

#include "core/error.h"

namespace thaw {

namespace {

// See interrupt.h for why this one flag is global: the handler can reach nothing else.
volatile std::sig_atomic_t g_signal_received = 0;

extern "C" void on_interrupt(int sig) {
  // Only the first signal is kept; the handler is reset to the default by SA_RESETHAND.
  if (g_signal_received == 0) g_signal_received = sig;
}

void read_disposition(int sig, struct sigaction& previous) {
  if (sigaction(sig, nullptr, &previous) != 0) fail_internal("sigaction(", sig, ") could not be read");
  THAW_CHECK(previous.sa_handler != on_interrupt, "an InterruptGuard is already alive");
}

void install(int sig, const struct sigaction& previous) {
  if (previous.sa_handler == SIG_IGN) return;  // an ignored signal stays ignored (see interrupt.h)
  struct sigaction act {};
  act.sa_handler = on_interrupt;
  sigemptyset(&act.sa_mask);
  // SA_RESETHAND: the second signal ends the process. SA_RESTART: a read or write in progress
  // goes on instead of failing with EINTR; the loop looks at the flag between steps anyway.
  act.sa_flags = SA_RESETHAND | SA_RESTART;
  if (sigaction(sig, &act, nullptr) != 0) fail_internal("sigaction(", sig, ") could not be set");
}

}  // namespace

InterruptGuard::InterruptGuard() {
  read_disposition(SIGINT, previous_int_);
  read_disposition(SIGTERM, previous_term_);
  g_signal_received = 0;
  install(SIGINT, previous_int_);
  install(SIGTERM, previous_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

int InterruptGuard::signal_received() const { return g_signal_received; }

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace thaw
