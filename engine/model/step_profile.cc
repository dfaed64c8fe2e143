#include "engine/model/step_profile.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace thaw {

namespace {

const char* kind_word(OpKind k) {
  switch (k) {
    case OpKind::Conv: return "conv";
    case OpKind::BatchNorm: return "batch norm";
    case OpKind::Relu: return "relu";
    case OpKind::MaxPool: return "max pool";
    case OpKind::AvgPool: return "avg pool";
    case OpKind::Concat: return "concat";
    case OpKind::GlobalAvgPool: return "global avg pool";
    case OpKind::Dropout: return "dropout";
    case OpKind::Linear: return "linear";
    case OpKind::Input: return "input";
  }
  return "?";
}

const char* part_word(ProfilePart p) {
  switch (p) {
    case ProfilePart::Forward: return "fwd";
    case ProfilePart::Backward: return "bwd";
    case ProfilePart::BackwardData: return "dgrad";
    case ProfilePart::BackwardWeight: return "wgrad";
  }
  return "?";
}

}  // namespace

StepProfile::StepProfile(const Graph& g)
    : g_(g), block_fwd_(g.blocks.size(), 0.0), block_bwd_(g.blocks.size(), 0.0) {}

void StepProfile::add_to(std::vector<Row>& rows, const std::string& name, double ms) {
  for (Row& r : rows) {
    if (r.name == name) {
      r.ms += ms;
      return;
    }
  }
  rows.push_back({name, ms});
}

void StepProfile::add(int node, ProfilePart part, double ms) {
  THAW_CHECK(node > 0 && node < static_cast<int>(g_.nodes.size()), "profile of node ", node);
  const Node& n = g_.nodes[node];
  add_to(kinds_, std::string(kind_word(n.kind)) + " " + part_word(part), ms);
  if (n.block < 0) return;
  (part == ProfilePart::Forward ? block_fwd_ : block_bwd_)[static_cast<size_t>(n.block)] += ms;
}

void StepProfile::add_other(const std::string& what, double ms) { add_to(others_, what, ms); }

std::vector<StepProfile::Row> StepProfile::sorted(const std::vector<Row>& rows) const {
  std::vector<Row> out = rows;
  const double per = steps_ > 0 ? 1.0 / static_cast<double>(steps_) : 1.0;
  for (Row& r : out) r.ms *= per;
  std::stable_sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  return out;
}

double StepProfile::total_ms() const {
  double t = 0;
  for (const Row& r : kinds_) t += r.ms;
  for (const Row& r : others_) t += r.ms;
  return steps_ > 0 ? t / static_cast<double>(steps_) : t;
}

double StepProfile::kind_ms(const std::string& kind) const {
  for (const Row& r : sorted(kinds_)) {
    if (r.name == kind) return r.ms;
  }
  return 0.0;
}

void StepProfile::write_report(std::ostream& os) const {
  const double total = total_ms();
  char line[160];
  auto row = [&](const std::string& name, double ms) {
    std::snprintf(line, sizeof line, "  %-22s %10.3f ms %6.1f%%\n", name.c_str(), ms, total > 0 ? 100.0 * ms / total : 0.0);
    os << line;
  };
  std::snprintf(line, sizeof line, "profile: %.3f ms per step over %lld steps\nby op kind:\n", total,
                static_cast<long long>(steps_));
  os << line;
  for (const Row& r : sorted(kinds_)) row(r.name, r.ms);
  for (const Row& r : sorted(others_)) row(r.name, r.ms);
  os << "by block (forward + backward):\n";
  const double per = steps_ > 0 ? 1.0 / static_cast<double>(steps_) : 1.0;
  for (size_t b = 0; b < g_.blocks.size(); ++b) {
    const double f = block_fwd_[b] * per, k = block_bwd_[b] * per;
    std::snprintf(line, sizeof line, "  %-22s %10.3f ms fwd %10.3f ms bwd %6.1f%%\n", g_.blocks[b].name.c_str(), f, k,
                  total > 0 ? 100.0 * (f + k) / total : 0.0);
    os << line;
  }
}

nlohmann::json StepProfile::to_json() const {
  nlohmann::json j = {{"steps", steps_}, {"total_ms", total_ms()}};
  for (const Row& r : sorted(kinds_)) j["kinds"][r.name] = r.ms;
  for (const Row& r : sorted(others_)) j["other"][r.name] = r.ms;
  const double per = steps_ > 0 ? 1.0 / static_cast<double>(steps_) : 1.0;
  for (size_t b = 0; b < g_.blocks.size(); ++b) {
    j["blocks"].push_back({{"block", g_.blocks[b].name}, {"fwd_ms", block_fwd_[b] * per}, {"bwd_ms", block_bwd_[b] * per}});
  }
  return j;
}

}  // namespace thaw
