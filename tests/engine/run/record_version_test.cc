// A run record's format version fixes its grad_norm rule (engine/model/digest_rule.h): a new record
// sums in blocks (version 2), and a resumed record goes on with the rule of the version it was
// made with, so that a version 1 run resumed by this thaw still replays bit for bit.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model/state_hash.h"
#include "engine/run/record.h"
#include "engine/run/record_read.h"
#include "engine/run/record_steps.h"

namespace thaw {
namespace {

using ojson = nlohmann::ordered_json;

// 70,001 gradients of mixed magnitudes: more than one block, and the two rules' last bits differ.
struct Gradients {
  std::vector<float> w, g;
  std::vector<int64_t> idx = {0, 1};
  std::vector<ParamRef<float>> params;
  Gradients() : w(70001, 0.5f), g(70001) {
    uint32_t x = 4242;
    for (size_t i = 0; i < g.size(); ++i) {
      x = x * 1664525u + 1013904223u;
      g[i] = static_cast<float>(static_cast<int32_t>(x)) * 1e-9f * static_cast<float>(1 + i % 1000);
    }
    params.push_back({"w", w.data(), g.data(), static_cast<int64_t>(g.size()), true});
  }
  StepInfo at(int64_t step) const { return {step, 0, 0.1, 1.0, idx, params}; }
};

ojson last_line(const std::filesystem::path& steps) {
  std::ifstream in(steps);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  return ojson::parse(last);
}

// A resumed run's recorder over a record of the given version whose first step is on disk: the
// second step's line.
ojson resumed_line(int version, const Gradients& t, uint64_t chain) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("thaw_record_version_" + std::to_string(version));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    StepsWriter first(dir / "steps.jsonl", digest_rule_for_record_version(version));
    first.on_step(t.at(0));
  }
  ojson record = {{"format", kRecordFormat}, {"version", version}, {"status", "stopped"}};
  RunRecorder resumed(dir, record, 1, chain, ojson::object());
  resumed.steps().on_step(t.at(1));
  EXPECT_EQ(resumed.record().at("version"), version) << "a resumed record keeps its version";
  return last_line(dir / "steps.jsonl");
}

TEST(RecordVersion, NewRecordsSumInBlocks) {
  EXPECT_EQ(kRecordVersion, 2);
  EXPECT_EQ(digest_rule_for_record_version(kRecordVersion), DigestRule::blocked);
}

TEST(RecordVersion, AResumedRecordKeepsItsVersionsRule) {
  const Gradients t;
  for (const DigestRule rule : {DigestRule::serial, DigestRule::blocked}) {
    const DigestRule other = rule == DigestRule::serial ? DigestRule::blocked : DigestRule::serial;
    ASSERT_NE(grad_norm(t.params, rule), grad_norm(t.params, other)) << "these gradients must tell the rules apart";
    const int version = rule == DigestRule::serial ? 1 : 2;
    const uint64_t chain = param_checksum(0, t.params, rule);
    const ojson line = resumed_line(version, t, chain);
    EXPECT_EQ(line.at("grad_norm_bits"), double_bits_hex(grad_norm(t.params, rule))) << "version " << version;
    EXPECT_EQ(line.at("param_checksum"), hex64(param_checksum(chain, t.params, rule))) << "version " << version;
  }
}

}  // namespace
}  // namespace thaw
