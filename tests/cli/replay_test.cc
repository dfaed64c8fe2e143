// `thaw train` writes a run record and `thaw replay` proves it: identical on an untouched folder
// (whatever the thread count), the right step named after an edited step line, the right sample
// after an edited data file, and changed initial weights refused before anything runs.
#include <fstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace thaw::testing {
namespace {

namespace fs = std::filesystem;

void put_be32(std::ofstream& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.write(b, 4);
}

// An uncompressed MNIST-style IDX folder: 20 training and 8 test images of 28x28, 3 classes.
void write_idx_folder(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [prefix, count] : {std::pair<std::string, uint32_t>{"train", 20}, {"t10k", 8}}) {
    std::ofstream img(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
    put_be32(img, 0x803);
    put_be32(img, count);
    put_be32(img, 28);
    put_be32(img, 28);
    uint32_t x = 12345 + count;
    for (uint32_t i = 0; i < count * 28 * 28; ++i) {
      x = x * 1664525u + 1013904223u;  // fixed pseudo-random pixels
      img.put(static_cast<char>(x >> 24));
    }
    std::ofstream lab(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
    put_be32(lab, 0x801);
    put_be32(lab, count);
    for (uint32_t i = 0; i < count; ++i) lab.put(static_cast<char>(i % 3));
  }
}

// 8 of the 20 training images in batches of 4: 2 steps per epoch, 2 epochs, 4 steps.
std::string train_command(const ScratchDir& dir, const std::string& out, const std::string& extra) {
  return std::string(THAW_BINARY) + " train --data " + sh_quote(dir / "idx") +
         " --input-size 75 --freeze-through mixed_7c --train-limit 8 --val-limit 4 --batch-size 4 --epochs 2"
         " --lr 0.05 --seed 7 --out " + sh_quote(dir / out) + " " + extra;
}

std::string replay_command(const ScratchDir& dir, const std::string& run, const std::string& extra = "") {
  return std::string(THAW_BINARY) + " replay " + sh_quote(dir / run) + " " + extra;
}

std::vector<nlohmann::json> read_lines(const fs::path& p) {
  std::istringstream in(read_text(p));
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}

void write_lines(const fs::path& p, const std::vector<nlohmann::json>& lines) {
  std::ofstream out(p, std::ios::binary);
  for (const auto& l : lines) out << l.dump() << "\n";
}

// The hex string with its lowest bit flipped.
std::string flip_low_bit(std::string hex) {
  char& c = hex.back();
  const int v = std::stoi(std::string(1, c), nullptr, 16) ^ 1;
  c = "0123456789abcdef"[v];
  return hex;
}

// Inverts every bit of one byte of a file; a negative offset counts from the end.
void invert_byte(const fs::path& p, std::streamoff offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  if (offset < 0) {
    f.seekg(offset, std::ios::end);
  } else {
    f.seekg(offset);
  }
  const std::streamoff at = f.tellg();
  const char c = static_cast<char>(f.get());
  f.seekp(at);
  f.put(static_cast<char>(~c));
}

class ReplayCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!thaw_binary_exists()) GTEST_SKIP() << "thaw binary not built: " << THAW_BINARY;
    write_idx_folder(dir_.path() / "idx");
  }
  ScratchDir dir_;
};

TEST_F(ReplayCommand, AFreshRunReplaysIdenticallyWithAnotherThreadCount) {
  const CommandResult t = run_command(train_command(dir_, "run", "--threads 1"), dir_);
  ASSERT_EQ(t.exit_code, 0) << describe("train", t);

  const fs::path run = dir_.path() / "run";
  const auto record = nlohmann::json::parse(read_text(run / "record.json"));
  EXPECT_EQ(record["format"], "thaw-record");
  EXPECT_EQ(record["status"], "complete");
  EXPECT_EQ(record["V"], 1);
  EXPECT_EQ(record["N"], 1);
  EXPECT_EQ(record["generator"], "philox4x32-10");
  EXPECT_EQ(record["precision"], "fp32");
  EXPECT_EQ(record["environment"]["openmp_threads"], 1);
  EXPECT_EQ(record["initial_weights"]["source"], "random:7");
  EXPECT_EQ(record["resolved"]["total_steps"], 4);
  EXPECT_EQ(record["resolved"]["classes"], 3);
  EXPECT_EQ(record["data"]["splits"]["train"]["counts_per_class"], nlohmann::json({3, 3, 2}));
  // The freeze lists add up to the whole network: trainable is mixed_7d and the head.
  const auto& fr = record["freeze"];
  int64_t listed = 0;
  for (const auto& t : fr["trainable"]["tensors"]) listed += t["count"].get<int64_t>();
  EXPECT_EQ(listed, fr["trainable"]["parameters"].get<int64_t>());
  EXPECT_GT(fr["frozen"]["tensors"].size(), 400u);
  EXPECT_EQ(fr["trainable"]["tensors"].back()["name"], "last_linear.bias");
  EXPECT_FALSE(record["environment"]["libraries"].empty());
  // samples.csv: a header, 8 training and 4 held-out lines.
  const std::string csv = read_text(run / "samples.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);
  const auto steps = read_lines(run / "steps.jsonl");
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[3]["epoch"], 1);
  EXPECT_NE(steps[0]["param_checksum"], steps[1]["param_checksum"]);

  const CommandResult r = run_command(replay_command(dir_, "run", "--threads 2"), dir_);
  EXPECT_EQ(r.exit_code, 0) << describe("replay", r);
  EXPECT_NE(r.out.find("identical: 4 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("openmp_threads: recorded 1, now 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cannot change bits"), std::string::npos) << r.out;

  const CommandResult k = run_command(replay_command(dir_, "run", "--steps 3"), dir_);
  EXPECT_EQ(k.exit_code, 0) << describe("replay --steps 3", k);
  EXPECT_NE(k.out.find("identical: 3 steps"), std::string::npos) << k.out;

  const CommandResult over = run_command(replay_command(dir_, "run", "--steps 5"), dir_);
  EXPECT_EQ(over.exit_code, 2) << describe("replay --steps 5", over);
  EXPECT_NE(over.err.find("holds only 4 steps"), std::string::npos) << over.err;
}

// --precision bf16 --emulate-bf16: recorded, replayed bit for bit, and not the fp32 run's bits.
TEST_F(ReplayCommand, AnEmulatedBf16RunReplaysIdentically) {
  const CommandResult t = run_command(train_command(dir_, "bf16", "--precision bf16 --emulate-bf16"), dir_);
  ASSERT_EQ(t.exit_code, 0) << describe("train", t);
  const CommandResult f = run_command(train_command(dir_, "fp32", ""), dir_);
  ASSERT_EQ(f.exit_code, 0) << describe("train", f);
  const auto record = nlohmann::json::parse(read_text(dir_.path() / "bf16" / "record.json"));
  EXPECT_EQ(record["config"]["precision"], "bf16");
  EXPECT_EQ(record["config"]["emulate_bf16"], true);
  const auto bf16 = read_lines(dir_.path() / "bf16" / "steps.jsonl");
  const auto fp32 = read_lines(dir_.path() / "fp32" / "steps.jsonl");
  ASSERT_EQ(bf16.size(), 4u);
  ASSERT_EQ(fp32.size(), 4u);
  EXPECT_NE(bf16[0]["param_checksum"], fp32[0]["param_checksum"]);
  // Near the fp32 run's first loss (before any update), loosely: batch statistics over the 4 values
  // per channel of the last blocks' 1x1 maps amplify rounding (3% measured); the close bounds are
  // tests/engine/model/bf16_rule_test.cc's.
  EXPECT_NEAR(bf16[0]["loss"].get<double>(), fp32[0]["loss"].get<double>(), 0.1 * fp32[0]["loss"].get<double>());

  const CommandResult r = run_command(replay_command(dir_, "bf16"), dir_);
  EXPECT_EQ(r.exit_code, 0) << describe("replay", r);
  EXPECT_NE(r.out.find("identical: 4 steps"), std::string::npos) << r.out;
}

TEST_F(ReplayCommand, NamesTheFirstEditedStepAndTheFirstChangedSample) {
  const CommandResult t = run_command(train_command(dir_, "run", "--max-steps 3"), dir_);
  ASSERT_EQ(t.exit_code, 0) << describe("train", t);
  const fs::path steps_file = dir_.path() / "run" / "steps.jsonl";
  const auto original = read_lines(steps_file);
  ASSERT_EQ(original.size(), 3u);

  // One bit of step 1's loss.
  auto edited = original;
  edited[1]["loss_bits"] = flip_low_bit(original[1]["loss_bits"]);
  write_lines(steps_file, edited);
  CommandResult r = run_command(replay_command(dir_, "run"), dir_);
  EXPECT_EQ(r.exit_code, 3) << describe("replay after a loss edit", r);
  EXPECT_NE(r.out.find("differs at step 1 (epoch 0):\n  loss_bits: recorded " + edited[1]["loss_bits"].get<std::string>() +
                       ", now " + original[1]["loss_bits"].get<std::string>()),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("identical"), std::string::npos) << r.out;

  // One bit of the last step's parameter checksum.
  edited = original;
  edited[2]["param_checksum"] = flip_low_bit(original[2]["param_checksum"]);
  write_lines(steps_file, edited);
  r = run_command(replay_command(dir_, "run"), dir_);
  EXPECT_EQ(r.exit_code, 3) << describe("replay after a checksum edit", r);
  EXPECT_NE(r.out.find("differs at step 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("param_checksum: recorded " + edited[2]["param_checksum"].get<std::string>()),
            std::string::npos)
      << r.out;
  // Only what was edited differs: the loss of that step still matches.
  EXPECT_EQ(r.out.find("loss_bits:"), std::string::npos) << r.out;

  // One pixel of training image 5: named before anything runs.
  write_lines(steps_file, original);
  invert_byte(dir_.path() / "idx" / "train-images-idx3-ubyte", 16 + 5 * 28 * 28 + 300);
  r = run_command(replay_command(dir_, "run"), dir_);
  EXPECT_EQ(r.exit_code, 2) << describe("replay after a data edit", r);
  EXPECT_NE(r.err.find("train sample 5 (line 7 of samples.csv): content_sha256 recorded"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("replaying"), std::string::npos) << r.out;
}

TEST_F(ReplayCommand, ChangedInitialWeightsAreRefusedBeforeRunning) {
  const CommandResult a = run_command(train_command(dir_, "a", "--max-steps 1"), dir_);
  ASSERT_EQ(a.exit_code, 0) << describe("train a", a);
  const std::string weights = dir_ / "a/weights.safetensors";
  const CommandResult b = run_command(train_command(dir_, "b", "--max-steps 1 --weights " + sh_quote(weights)), dir_);
  ASSERT_EQ(b.exit_code, 0) << describe("train b", b);
  const auto record = nlohmann::json::parse(read_text(dir_.path() / "b" / "record.json"));
  EXPECT_EQ(record["initial_weights"]["source"], weights);
  EXPECT_EQ(record["initial_weights"]["file_sha256"].get<std::string>().size(), 64u);

  CommandResult r = run_command(replay_command(dir_, "b"), dir_);
  EXPECT_EQ(r.exit_code, 0) << describe("replay b", r);
  EXPECT_NE(r.out.find("identical: 1 steps"), std::string::npos) << r.out;

  invert_byte(weights, -1);
  r = run_command(replay_command(dir_, "b"), dir_);
  EXPECT_EQ(r.exit_code, 2) << describe("replay b after a weights edit", r);
  EXPECT_NE(r.err.find("initial weights " + weights + " changed since the run"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("replaying"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace thaw::testing
