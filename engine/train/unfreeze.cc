#include "engine/train/unfreeze.h"

#include <charconv>

#include "core/error.h"

namespace thaw {

namespace {

int unfreeze_block(const Graph& g, const std::string& name, const std::string& item) {
  if (name == "none") return -1;
  for (size_t i = 0; i < g.blocks.size(); ++i) {
    if (g.blocks[i].name == name || g.blocks[i].alias == name) return static_cast<int>(i);
  }
  std::string valid = "none";
  for (const auto& b : g.blocks) valid += ", " + b.name;
  fail_user("--unfreeze: unknown block '", name, "' in '", item, "'; expected one of ", g.arch, "'s: ", valid);
}

}  // namespace

std::vector<UnfreezePoint> parse_unfreeze(const std::string& spec, const Graph& g, int64_t epochs) {
  std::vector<UnfreezePoint> out;
  size_t start = 0;
  while (start < spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    const size_t at = item.find('@');
    if (at == std::string::npos) fail_user("--unfreeze: expected BLOCK@EPOCH, got '", item, "'");
    UnfreezePoint p;
    p.block = unfreeze_block(g, item.substr(0, at), item);
    const std::string e = item.substr(at + 1);
    const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), p.epoch);
    if (e.empty() || ec != std::errc() || end != e.data() + e.size() || p.epoch < 0) {
      fail_user("--unfreeze: expected an epoch (0, 1, ...) after '@', got '", e, "' in '", item, "'");
    }
    if (out.empty() && p.epoch != 0) {
      fail_user("--unfreeze: the schedule starts at epoch 0 (its first freeze point), got '", item, "'");
    }
    if (!out.empty() && p.epoch <= out.back().epoch) {
      fail_user("--unfreeze: epochs must increase, got '", item, "' after epoch ", out.back().epoch);
    }
    if (!out.empty() && p.block >= out.back().block) {
      fail_user("--unfreeze: each freeze point must come before the last (unfreezing moves back), got '", item, "'");
    }
    if (p.epoch >= epochs) {
      fail_user("--unfreeze: '", item, "' is past the run's last epoch (epochs are 0 to ", epochs - 1,
                " with --epochs ", epochs, ")");
    }
    out.push_back(p);
  }
  if (!spec.empty() && out.empty()) fail_user("--unfreeze: expected BLOCK@EPOCH,..., got '", spec, "'");
  return out;
}

int freeze_block_at(const std::vector<UnfreezePoint>& schedule, int fixed_block, int64_t epoch) {
  int block = fixed_block;
  for (const UnfreezePoint& p : schedule) {
    if (p.epoch <= epoch) block = p.block;
  }
  return block;
}

int earliest_freeze_block(const std::vector<UnfreezePoint>& schedule, int fixed_block) {
  return schedule.empty() ? fixed_block : schedule.back().block;
}

}  // namespace thaw
