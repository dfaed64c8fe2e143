#pragma once
// What a reader's limit costs when it refuses a file: the rejection runs in a forked child, whose
// growth in peak resident memory (getrusage) is what the rejection touched, whatever the test
// process allocated before. Limits promise a rejection
// within 1 s and under 200 MB (docs/data.md).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"

namespace thaw::testkit {

struct RejectionCost {
  std::string message;  // the UserError's; "" when none was thrown
  double seconds = 0;
  long extra_rss_kib = 0;
};

inline long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

template <typename F>
RejectionCost rejection_cost(F&& f) {
  int fds[2];
  if (pipe(fds) != 0) ADD_FAILURE() << "pipe failed";
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    // The child's peak starts at what it shares with the parent: only its growth is the rejection's.
    const long before = peak_rss_kib();
    std::string msg;
    try {
      f();
    } catch (const UserError& e) {
      msg = e.what();
    } catch (...) {
      msg = "(another exception)";
    }
    const std::string out = std::to_string(peak_rss_kib() - before) + "\n" + msg;
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  RejectionCost c;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the rejection's child process died";
  const size_t nl = got.find('\n');
  if (nl == std::string::npos) return c;
  c.extra_rss_kib = std::stol(got.substr(0, nl));
  c.message = got.substr(nl + 1);
  return c;
}

// The UserError's message, after checking the rejection took under a second and under 200 MB more
// resident memory. Under a sanitizer (its shadow memory and slower code) only the message counts.
template <typename F>
std::string refused_cheaply(F&& f, const std::string& what) {
  const RejectionCost c = rejection_cost(f);
  EXPECT_FALSE(c.message.empty()) << what << ": expected a UserError";
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(c.seconds, 1.0) << what;
  EXPECT_LT(c.extra_rss_kib, 200 * 1024) << what;
#endif
  return c.message;
}

}  // namespace thaw::testkit
