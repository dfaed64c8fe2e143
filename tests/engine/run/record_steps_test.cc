// steps.jsonl: the chained line maker, the writer/reader pair and the field comparison replay uses.
#include "engine/run/record_steps.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/model/state_hash.h"

namespace thaw {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::path(::testing::TempDir()) / name;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct TwoSteps {
  std::vector<float> w = {0.5f, -1.f}, g = {3.f, 4.f};
  std::vector<int64_t> idx = {2, 0, 1};
  std::vector<ParamRef<float>> params{{"w", w.data(), g.data(), 2, true}};
  StepInfo at(int64_t step) const { return {step, 0, 0.1, 2.0 + step, idx, params}; }
};

TEST(RecordSteps, LinesCarryTheChainAndTheExactBits) {
  TwoSteps t;
  StepLineMaker maker(DigestRule::blocked);
  const auto l0 = maker.next(t.at(0));
  const uint64_t c0 = param_checksum(0, t.params, DigestRule::blocked);
  t.w[0] = 0.25f;  // the update between the steps
  const auto l1 = maker.next(t.at(1));
  EXPECT_EQ(l0["step"], 0);
  EXPECT_EQ(l1["loss"], 3.0);
  EXPECT_EQ(l1["loss_bits"], "4008000000000000");
  EXPECT_EQ(l0["grad_norm"], 5.0);
  EXPECT_EQ(l0["grad_norm_bits"], "4014000000000000");
  EXPECT_EQ(l0["batch_hash"], hex64(batch_hash(t.idx)));
  EXPECT_EQ(l0["param_checksum"], hex64(c0));
  EXPECT_EQ(l1["param_checksum"], hex64(param_checksum(c0, t.params, DigestRule::blocked)));
  std::vector<std::string> keys;
  for (const auto& [k, v] : l0.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"step", "epoch", "lr", "loss", "loss_bits", "grad_norm", "grad_norm_bits",
                                            "batch_hash", "param_checksum"}));
}

TEST(RecordSteps, WriterAndReaderRoundTripAndIgnoreATornTail) {
  const auto path = temp_file("thaw_steps_test.jsonl");
  TwoSteps t;
  {
    StepsWriter w(path, DigestRule::blocked);
    EXPECT_TRUE(w.on_step(t.at(0)));
    EXPECT_TRUE(w.on_step(t.at(1)));
    // Every line is on disk before the next step, not at the writer's end.
    const std::string text = slurp(path);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  }
  RecordedSteps r = read_steps(path);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_FALSE(r.torn_tail);
  EXPECT_EQ(r.lines[1]["loss_bits"], "4008000000000000");
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"step":2,"epo)";
  }
  r = read_steps(path);
  EXPECT_EQ(r.lines.size(), 2u);
  EXPECT_TRUE(r.torn_tail);
  {
    std::ofstream out(path);
    out << R"({"step":0})" << "\n" << R"({"step":2})" << "\n";
  }
  try {
    read_steps(path);
    FAIL() << "a skipped step was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(RecordSteps, DifferingFieldsNamesEachChangedKey) {
  const auto a = nlohmann::ordered_json::parse(R"({"step":1,"loss":2.5,"loss_bits":"4004000000000000","x":1})");
  auto b = a;
  EXPECT_TRUE(differing_fields(a, b).empty());
  b["loss_bits"] = "4004000000000001";
  b.erase("x");
  b["y"] = 2;
  EXPECT_EQ(differing_fields(a, b), (std::vector<std::string>{"loss_bits", "x", "y"}));
}

}  // namespace
}  // namespace thaw
