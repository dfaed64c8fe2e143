#pragma once
// What tests ask of a user's mistake: that it is a UserError (exit 2 in the CLI), and what it says.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace thaw::testkit {

// The message of the UserError that `f` throws; a test failure (and "") when it throws none.
template <typename F>
std::string user_error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a UserError";
  return "";
}

// Expects a UserError from `f` whose message starts with "<flag>:", the form every flag's check takes.
template <typename F>
void expect_user_error_naming(F&& f, const std::string& flag) {
  const std::string msg = user_error_of(f);
  EXPECT_TRUE(msg.starts_with(flag + ":")) << "expected a UserError naming " << flag << ", got: " << msg;
}

}  // namespace thaw::testkit
