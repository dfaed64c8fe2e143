#pragma once
// A process id that no process has: a child that has exited and been reaped, for tests of what is
// left behind by a process that died.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace thaw::testkit {

inline pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

}  // namespace thaw::testkit
