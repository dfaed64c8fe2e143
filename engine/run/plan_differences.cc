#include "engine/run/plan_differences.h"

#include <map>

namespace thaw {

namespace {

// "problem: choice" by problem; a line without the separator is all problem.
std::map<std::string, std::string> by_problem(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> m;
  for (const std::string& l : lines) {
    const size_t at = l.find(": ");
    m[l.substr(0, at)] = at == std::string::npos ? "" : l.substr(at + 2);
  }
  return m;
}

}  // namespace

std::vector<std::string> plan_differences(const std::vector<std::string>& recorded, const std::vector<std::string>& now) {
  const std::map<std::string, std::string> r = by_problem(recorded), n = by_problem(now);
  std::map<std::string, std::string> out;
  for (const auto& [problem, choice] : r) {
    const auto it = n.find(problem);
    if (it == n.end()) {
      out[problem] = "recorded " + choice + ", now none";
    } else if (it->second != choice) {
      out[problem] = "recorded " + choice + ", now " + it->second;
    }
  }
  for (const auto& [problem, choice] : n) {
    if (!r.count(problem)) out[problem] = "recorded none, now " + choice;
  }
  std::vector<std::string> lines;
  for (const auto& [problem, what] : out) lines.push_back(problem + ": " + what);
  return lines;
}

}  // namespace thaw
