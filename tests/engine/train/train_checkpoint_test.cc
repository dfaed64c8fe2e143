// Training checkpoints: a written checkpoint reads back to the same bits (model state, optimizer
// state and step count, position, the epoch's loss sum); refusals name the file; checkpoint files
// are listed, pruned and removed by their step; the interrupt guard turns SIGINT and SIGTERM into
// a flag and puts the old dispositions back.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/train/interrupt.h"
#include "engine/model/model_state.h"
#include "engine/optim/optimizer.h"
#include "engine/model/plan.h"
#include "engine/train/train_checkpoint.h"
#include "graph/inception_v4.h"
#include "io/safetensors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace thaw {
namespace {

namespace fs = std::filesystem;

using testkit::TempDir;

// The trainable tensors of the plan with gradient buffers of their own (all zero).
struct Trainable {
  std::vector<std::vector<float>> grads;
  std::vector<ParamRef<float>> refs;
  Trainable(const Graph& g, const Plan& plan, ModelState<float>& state) {
    for (int t : plan.trainable_tensors) {
      grads.emplace_back(static_cast<size_t>(state.values[t].numel()), 0.0f);
      refs.push_back({g.tensors[t].name, state.values[t].data(), grads.back().data(), state.values[t].numel(),
                      g.tensors[t].role == TensorRole::Weight});
    }
  }
};

CheckpointMeta sample_meta() {
  CheckpointMeta m;
  m.run_id = "abc-20260101T000000Z";
  m.run_sha256 = std::string(64, 'a');
  m.progress = {5, 1, 2, 0.1 + 0.2};  // 5 steps done: epoch 1 holds 2 of them
  m.steps_per_epoch = 3;
  m.total_steps = 9;
  m.seed = 42;
  return m;
}

// Every value and counter of `a` has the bits of `b`'s.
void expect_same_state(const Graph& g, const ModelState<float>& a, const ModelState<float>& b) {
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    if (g.tensors[i].role == TensorRole::NumBatchesTracked) {
      EXPECT_EQ(a.batches_tracked[i], b.batches_tracked[i]) << g.tensors[i].name;
      continue;
    }
    ASSERT_EQ(a.values[i].shape(), b.values[i].shape()) << g.tensors[i].name;
    EXPECT_EQ(std::memcmp(a.values[i].data(), b.values[i].data(), b.values[i].numel() * sizeof(float)), 0)
        << g.tensors[i].name;
  }
}

void expect_same_optimizer_state(Optimizer<float>& x, Optimizer<float>& y) {
  const auto a = x.state();
  const auto b = y.state();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, span] : a) {
    ASSERT_EQ(b.at(name).size(), span.size());
    EXPECT_EQ(std::memcmp(b.at(name).data(), span.data(), span.size_bytes()), 0) << name;
  }
}

TEST(TrainCheckpoint, RoundTripsModelAndOptimizerStateBitForBit) {
  TempDir dir;
  const Graph g = build_inception_v4(75, 3, 0.0);
  ModelState<float> state = ModelState<float>::random(g, 7);
  for (size_t i = 0; i < g.tensors.size(); ++i) state.batches_tracked[i] = static_cast<int64_t>(i) * 3 + 1;
  const Plan plan = make_plan(g, g.find_block("mixed_7c"), BnPolicy::Train);
  Trainable tr(g, plan, state);
  OptimizerConfig oc;
  oc.kind = OptimizerConfig::Kind::AdamW;
  Optimizer<float> opt(oc, tr.refs);
  int k = 0;
  for (auto& [name, span] : opt.state()) {
    for (float& v : span) v = static_cast<float>(std::sin(0.001 * ++k));
  }
  opt.set_step_count(5);
  const fs::path file = checkpoint_path(dir.path(), 5);
  EXPECT_EQ(file.filename(), "checkpoint-000000005.safetensors");
  const CheckpointMeta meta = sample_meta();
  write_train_checkpoint(file, g, state, opt, meta);

  // The model part is a timm state_dict plus "optimizer." tensors; the metadata is documented JSON.
  const SafeTensorsFile raw = SafeTensorsFile::read(file);
  EXPECT_EQ(raw.names().front(), "features.0.conv.weight");
  EXPECT_EQ(raw.names().size(), g.tensors.size() + 2 * plan.trainable_tensors.size());
  EXPECT_EQ(raw.info("optimizer.last_linear.weight.exp_avg").shape, (Shape{3, 1536}));
  const nlohmann::json j = nlohmann::json::parse(raw.metadata().at(kCheckpointMetaKey));
  EXPECT_EQ(j["format"], "thaw-checkpoint");
  EXPECT_EQ(j["steps_done"], 5);
  EXPECT_EQ(j["epoch_loss_sum_bits"], "3fd3333333333334");  // 0.1 + 0.2, to the bit
  EXPECT_EQ(j["optimizer"]["kind"], "adamw");
  EXPECT_EQ(j["optimizer"]["steps"], 5);
  EXPECT_EQ(j["generator"], "philox4x32-10");
  EXPECT_EQ(raw.metadata().at("arch"), "inception_v4");

  const TrainCheckpoint c = read_train_checkpoint(file, g, meta.run_sha256);
  EXPECT_EQ(c.meta.progress.steps_done, 5);
  EXPECT_EQ(c.meta.progress.epoch, 1);
  EXPECT_EQ(c.meta.progress.epoch_steps_done, 2);
  EXPECT_EQ(c.meta.progress.epoch_loss_sum, 0.1 + 0.2);
  EXPECT_EQ(c.meta.seed, 42u);
  EXPECT_EQ(c.meta.run_id, meta.run_id);
  expect_same_state(g, c.state, state);

  ModelState<float> fresh_state = ModelState<float>::random(g, 8);
  Trainable tr2(g, plan, fresh_state);
  Optimizer<float> fresh(oc, tr2.refs);
  restore_optimizer(c, fresh);
  EXPECT_EQ(fresh.step_count(), 5);
  expect_same_optimizer_state(opt, fresh);

  // The same checkpoint into an SGD run, or into a run with other trainable tensors: refused.
  OptimizerConfig sgd;
  Optimizer<float> other(sgd, tr2.refs);
  EXPECT_NE(testkit::user_error_of([&] { restore_optimizer(c, other); }).find(file.string() + ": optimizer state of adamw"),
            std::string::npos);
  const Plan wider = make_plan(g, g.find_block("mixed_7b"), BnPolicy::Train);
  Trainable tr3(g, wider, fresh_state);
  Optimizer<float> more(oc, tr3.refs);
  EXPECT_NE(testkit::user_error_of([&] { restore_optimizer(c, more); }).find(file.string() + ": missing optimizer state"),
            std::string::npos);

  // Another run's identity: refused before any tensor is read, as a ForeignCheckpoint.
  EXPECT_THROW(read_train_checkpoint(file, g, std::string(64, 'b')), ForeignCheckpoint);
  // A graph with another head: the tensor is named.
  const Graph g5 = build_inception_v4(75, 5, 0.0);
  EXPECT_NE(testkit::user_error_of([&] {
              read_train_checkpoint(file, g5);
            }).find("tensor last_linear.weight has shape [3, 1536], expected [5, 1536]"),
            std::string::npos);
}

// A small safetensors file with one tensor and the given checkpoint metadata (or none).
void write_small(const fs::path& p, const std::string& meta) {
  SafeTensorsWriter w;
  const float v[2] = {1, 2};
  w.add("x", DType::F32, {2}, v);
  if (!meta.empty()) w.set_metadata(kCheckpointMetaKey, meta);
  w.write(p);
}

TEST(TrainCheckpoint, RefusesFilesThatAreNotWholeCheckpointsNamingThem) {
  TempDir dir;
  const Graph g = build_inception_v4(75, 3, 0.0);
  const fs::path p = dir.path() / "c.safetensors";

  write_small(p, "");
  EXPECT_EQ(testkit::user_error_of([&] { read_train_checkpoint(p, g); }),
            p.string() + ": not a thaw training checkpoint (no thaw_checkpoint metadata)");

  nlohmann::json m = {{"format", "thaw-checkpoint"},
                      {"version", 1},
                      {"run_id", "r"},
                      {"run_sha256", "s"},
                      {"steps_done", 5},
                      {"epoch", 0},
                      {"epoch_steps_done", 2},
                      {"epoch_loss_sum_bits", "0000000000000000"},
                      {"steps_per_epoch", 3},
                      {"total_steps", 9},
                      {"seed", 1}};
  write_small(p, m.dump());
  EXPECT_NE(testkit::user_error_of([&] { read_train_checkpoint(p, g); }).find(p.string() + ": inconsistent position"),
            std::string::npos);
  m["version"] = 2;
  write_small(p, m.dump());
  EXPECT_NE(testkit::user_error_of([&] { read_train_checkpoint(p, g); }).find("version 2 is newer"), std::string::npos);
  m["version"] = 1;
  m.erase("seed");
  write_small(p, m.dump());
  EXPECT_EQ(testkit::user_error_of([&] { read_train_checkpoint(p, g); }), p.string() + ": checkpoint metadata has no seed");
  write_small(p, "{not json");
  EXPECT_NE(testkit::user_error_of([&] { read_train_checkpoint(p, g); }).find("metadata is not valid JSON"),
            std::string::npos);

  // Truncated, and a header length past the end: the safetensors reader names the file.
  { std::ofstream(p, std::ios::binary | std::ios::trunc).write("\x10\0\0\0", 4); }
  EXPECT_NE(testkit::user_error_of([&] { read_train_checkpoint(p, g); }).find(p.string()), std::string::npos);
  {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    const char len[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    f.write(len, 8);
    f << "{}";
  }
  EXPECT_NE(testkit::user_error_of([&] { read_train_checkpoint(p, g); }).find(p.string()), std::string::npos);
}

TEST(TrainCheckpoint, FilesAreListedPrunedAndRemovedByTheirStep) {
  TempDir dir;
  for (const char* n : {"checkpoint-000000012.safetensors", "checkpoint-000000003.safetensors",
                        "checkpoint-000000100.safetensors", ".checkpoint-000000200.safetensors.tmp-1-0",
                        "checkpoint-12x.safetensors", "checkpoint-000000007.safetensors.bak", "weights.safetensors"}) {
    std::ofstream(dir.path() / n) << "x";
  }
  std::vector<int64_t> steps;
  for (const CheckpointFile& f : list_checkpoints(dir.path())) steps.push_back(f.steps_done);
  EXPECT_EQ(steps, (std::vector<int64_t>{3, 12, 100}));

  prune_checkpoints(dir.path(), 2);
  steps.clear();
  for (const CheckpointFile& f : list_checkpoints(dir.path())) steps.push_back(f.steps_done);
  EXPECT_EQ(steps, (std::vector<int64_t>{12, 100}));
  EXPECT_TRUE(fs::exists(dir.path() / "weights.safetensors"));

  const std::vector<fs::path> removed = remove_checkpoints_after(dir.path(), 12);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].filename(), "checkpoint-000000100.safetensors");
  ASSERT_EQ(list_checkpoints(dir.path()).size(), 1u);
  EXPECT_EQ(remove_checkpoints_after(dir.path(), 0).size(), 1u);
  EXPECT_TRUE(list_checkpoints(dir.path()).empty());
  EXPECT_TRUE(fs::exists(dir.path() / ".checkpoint-000000200.safetensors.tmp-1-0"));
}

TEST(InterruptGuard, TurnsTheFirstSignalIntoAFlagAndRestoresTheHandlers) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  struct sigaction before_term {
  }, before_int{};
  ASSERT_EQ(sigaction(SIGTERM, &ignore, &before_term), 0);
  ASSERT_EQ(sigaction(SIGINT, &dfl, &before_int), 0);  // whatever the test runner set
  {
    InterruptGuard guard;
    EXPECT_EQ(guard.signal_received(), 0);
    EXPECT_THROW(InterruptGuard second, InternalError);
    std::raise(SIGTERM);  // ignored before the guard: stays ignored
    EXPECT_EQ(guard.signal_received(), 0);
    std::raise(SIGINT);  // caught: the process goes on
    EXPECT_EQ(guard.signal_received(), SIGINT);
    struct sigaction now {};
    sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);  // a second Ctrl-C ends the process at once
  }
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_IGN);
  sigaction(SIGTERM, &before_term, nullptr);
  sigaction(SIGINT, &before_int, nullptr);
  {
    InterruptGuard again;  // a new guard starts without a signal
    EXPECT_EQ(again.signal_received(), 0);
  }
  EXPECT_STREQ(signal_name(SIGTERM), "SIGTERM");
}

}  // namespace
}  // namespace thaw
