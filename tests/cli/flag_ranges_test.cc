// Every numeric flag of every subcommand, found by walking the one command-line definition that
// main() parses (cli/app.h), so a flag added tomorrow is covered by construction: it must carry a
// stated range (cli/flag_range.h), and 0, -1, NaN, inf and huge values must either be taken or be
// refused while parsing with one line naming the flag, before any work. The subcommands' work never
// runs: a required flag that no test gives stops each parse after validation. A few of the cases
// that once ended in an internal error or a crash run through the built binary too.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/app.h"
#include "cli/flag_range.h"
#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

struct Flag {
  std::vector<std::string> path;  // subcommands, e.g. {"data", "check"}
  std::string name;               // "--epochs"
  std::string type;               // CLI11's type name: INT, UINT or FLOAT
  bool has_range = false;
  std::string describe() const {
    std::string s = "thaw";
    for (const auto& p : path) s += " " + p;
    return s + " " + name;
  }
};

bool numeric(const std::string& type) { return type == "INT" || type == "UINT" || type == "FLOAT"; }

// A required flag no command line gives, on every subcommand: CLI11 validates the values given
// (option callbacks) before it checks requirements, and runs a subcommand's work only after both,
// so the parse stops with a RequiredError after validation and nothing runs. (Replacing the
// callbacks instead would free the flags' storage, which the callbacks own.)
void never_run(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands({})) {
    sub->add_flag("--thaw-test-never-given")->required();
    never_run(sub);
  }
}

void collect(CLI::App* app, std::vector<std::string> path, std::vector<Flag>& out) {
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_lnames().empty()) continue;  // positionals are files and folders
    const std::string full = opt->get_type_name();
    const std::string type = full.substr(0, full.find(':'));
    if (!numeric(type)) continue;
    Flag f{path, "--" + opt->get_lnames().front(), type, false};
    try {
      f.has_range = const_cast<CLI::Option*>(opt)->get_validator(cli::kFlagRangeName) != nullptr;
    } catch (const CLI::OptionNotFound&) {
      f.has_range = false;
    }
    out.push_back(f);
  }
  for (CLI::App* sub : app->get_subcommands({})) {
    std::vector<std::string> p = path;
    p.push_back(sub->get_name());
    collect(sub, p, out);
  }
}

std::vector<Flag> numeric_flags() {
  CLI::App app;
  cli::add_commands(app);
  std::vector<Flag> flags;
  collect(&app, {}, flags);
  return flags;
}

struct Parsed {
  bool refused = false;
  std::string message;  // CLI11's message, as main() prints it after "thaw: error: "
};

// Parses `thaw <path> <flag> <value>` with no work behind the subcommands. A missing required
// option is not this flag's refusal: the value was taken.
Parsed parse(const Flag& f, const std::string& value) {
  CLI::App app;
  cli::add_commands(app);
  never_run(&app);
  std::vector<std::string> args = f.path;
  args.push_back(f.name);
  args.push_back(value);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::RequiredError&) {
    return {};
  } catch (const CLI::ParseError& e) {
    return {true, e.what()};
  }
  return {};
}

TEST(FlagRanges, TheWalkFindsTheFlagsOfEverySubcommand) {
  const std::vector<Flag> flags = numeric_flags();
  auto has = [&](const std::string& cmd, const std::string& name) {
    return std::any_of(flags.begin(), flags.end(),
                       [&](const Flag& f) { return !f.path.empty() && f.path.back() == cmd && f.name == name; });
  };
  EXPECT_TRUE(has("train", "--epochs"));
  EXPECT_TRUE(has("train", "--class-weights"));
  EXPECT_TRUE(has("check", "--threads"));  // thaw data check: a nested subcommand
  EXPECT_TRUE(has("samplesize", "--half-width"));
  EXPECT_GE(flags.size(), 80u);
}

TEST(FlagRanges, EveryNumericFlagStatesItsRange) {
  for (const Flag& f : numeric_flags()) EXPECT_TRUE(f.has_range) << f.describe() << " (" << f.type << ") has no range";
}

TEST(FlagRanges, NanInfAndHugeValuesAreRefusedNamingTheFlag) {
  for (const Flag& f : numeric_flags()) {
    for (const std::string v : {"nan", "inf", "-inf", "1e300", "99999999999999999999999", "abc"}) {
      const Parsed p = parse(f, v);
      EXPECT_TRUE(p.refused) << f.describe() << " " << v << " was taken";
      EXPECT_NE(p.message.find(f.name), std::string::npos) << f.describe() << " " << v << ": " << p.message;
      EXPECT_EQ(p.message.find('\n'), std::string::npos) << p.message;
    }
  }
}

TEST(FlagRanges, NegativeValuesAreRefusedNamingTheFlag) {
  for (const Flag& f : numeric_flags()) {
    const Parsed p = parse(f, "-1");
    EXPECT_TRUE(p.refused) << f.describe() << " -1 was taken";
    EXPECT_NE(p.message.find(f.name), std::string::npos) << f.describe() << ": " << p.message;
  }
}

// Zero is a real setting for some flags (--threads 0: all cores) and a mistake for others; either
// way it is decided by the stated range, and a refusal names the flag and the range.
TEST(FlagRanges, ZeroIsTakenOrRefusedAsTheRangeSays) {
  for (const Flag& f : numeric_flags()) {
    const Parsed p = parse(f, "0");
    if (!p.refused) continue;
    EXPECT_NE(p.message.find(f.name), std::string::npos) << f.describe() << ": " << p.message;
    EXPECT_NE(p.message.find("number in "), std::string::npos) << f.describe() << ": " << p.message;
  }
  const Flag epochs{{"train"}, "--epochs", "INT", true};
  EXPECT_TRUE(parse(epochs, "0").refused);
  const Flag threads{{"train"}, "--threads", "INT", true};
  EXPECT_FALSE(parse(threads, "0").refused);
}

TEST(FlagRanges, WholeNumberFlagsRefuseFractions) {
  const Flag epochs{{"train"}, "--epochs", "INT", true};
  const Parsed p = parse(epochs, "2.5");
  EXPECT_TRUE(p.refused);
  EXPECT_NE(p.message.find("whole number in [1, 100000]"), std::string::npos) << p.message;
}

TEST(FlagRanges, RangeTextsAreExact) {
  EXPECT_EQ(cli::describe(cli::whole(1, 100000)), "whole number in [1, 100000]");
  EXPECT_EQ(cli::describe(cli::real(0, 1, true)), "number in (0, 1]");
  EXPECT_EQ(cli::describe(cli::real(0.5, 1e6, false, true)), "number in [0.5, 1000000)");
  EXPECT_EQ(cli::describe(cli::fraction_range()), "number in [0, 1)");
  EXPECT_EQ(cli::describe(cli::threads_range()), "whole number in [0, 1024]; 0: all cores");
  EXPECT_EQ(cli::describe(cli::seed_range()), "whole number in [0, 2^64 - 1]");
  EXPECT_EQ(cli::range_error(cli::fraction_range(), "0.5"), "");
  EXPECT_EQ(cli::range_error(cli::fraction_range(), "1"), "expected a number in [0, 1), got 1");
  EXPECT_EQ(cli::range_error(cli::real(0, 1, true), "0"), "expected a number in (0, 1], got 0");
  EXPECT_EQ(cli::range_error(cli::seed_range(), "18446744073709551615"), "");
}

constexpr int kUserErrorExit = 2;

// The binary: each of these once ended in an internal error (exit 1) or SIGSEGV.
TEST(FlagRanges, TheReportedCasesEndInOneLineAndExit2) {
  if (!std::filesystem::exists(THAW_BINARY)) GTEST_SKIP() << "thaw is not built at " << THAW_BINARY;
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --epochs 0", "--epochs"},
      {"train --epochs -1", "--epochs"},
      {"train --epochs 100000000000", "--epochs"},
      {"train --input-size 100000", "--input-size"},
      {"train --threads 100000", "--threads"},
      {"train --class-weights 1,0,1", "--class-weights"},
      {"train --class-weights 1,-2", "--class-weights"},
      {"train --class-weights nan,1", "--class-weights"},
      {"predict --weights w --input i --output o --batch-size 0", "--batch-size"},
      {"eval --weights w --data d --threshold 2", "--threshold"},
  };
  for (const auto& [args, flag] : cases) {
    const bool train = args.starts_with("train");
    const std::string cmd = sh_quote(THAW_BINARY) + " " + args + (train ? " --out " + sh_quote(dir / "run") : "");
    const CommandResult r = run_command(cmd, dir);
    EXPECT_EQ(r.exit_code, kUserErrorExit) << describe(cmd, r);
    const std::string line = trim_right(r.err);
    EXPECT_EQ(line.find('\n'), std::string::npos) << describe(cmd, r);
    EXPECT_NE(line.find(flag), std::string::npos) << describe(cmd, r);
    EXPECT_FALSE(std::filesystem::exists(dir / "run")) << "a refused run left a folder\n" << describe(cmd, r);
  }
}

}  // namespace
}  // namespace thaw::testing
