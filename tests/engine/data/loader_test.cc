// The batch loader: batches in the given order with the same bits for 1, 2 and 4 workers (samples
// finish out of order on purpose), a bounded number of batches in flight, the first bad sample in
// batch order named (whichever worker failed first), Skip leaving bad samples out and reporting
// them, and destruction mid-epoch returning promptly.
#include "engine/data/loader.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/data/batch.h"
#include "tests/io/io_test_support.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Sample i is a pure function of (i, epoch); some samples are slow so that they finish after
// later ones; `bad` ones throw a UserError naming a file, `broken` ones an InternalError.
class FakeDataset final : public Dataset {
 public:
  explicit FakeDataset(int64_t n, std::set<int64_t> bad = {}, std::set<int64_t> broken = {},
                       std::set<int64_t> slow = {})
      : n_(n), bad_(std::move(bad)), broken_(std::move(broken)), slow_(std::move(slow)) {}
  int64_t size() const override { return n_; }
  int64_t num_classes() const override { return 3; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }
  int32_t label(int64_t i) const override { return static_cast<int32_t>(i % 3); }
  void load(int64_t i, int64_t size, LoadMode mode, float* chw) const override {
    loads_.fetch_add(1);
    if (slow_.count(i)) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    if (bad_.count(i)) fail_user("fake/", i, ".jpg: corrupt or truncated JPEG");
    if (broken_.count(i)) fail_internal("sample ", i, " broke");
    for (int64_t k = 0; k < 3 * size * size; ++k) {
      chw[k] = static_cast<float>(i) * 0.25f + static_cast<float>(k) * 1e-3f + static_cast<float>(mode.epoch);
    }
  }
  std::string describe() const override { return "fake"; }
  int64_t loads() const { return loads_.load(); }

 private:
  int64_t n_;
  std::set<int64_t> bad_, broken_, slow_;
  mutable std::atomic<int64_t> loads_{0};
};

std::vector<std::vector<int64_t>> batches_of(const std::vector<int64_t>& order, int64_t b) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i + static_cast<size_t>(b) <= order.size(); i += static_cast<size_t>(b)) {
    out.emplace_back(order.begin() + static_cast<int64_t>(i), order.begin() + static_cast<int64_t>(i) + b);
  }
  return out;
}

std::string error_of(BatchLoader& loader) {
  try {
    while (loader.next()) {
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Loader, SameBitsAndOrderForOneTwoAndFourWorkers) {
  const FakeDataset data(40, {}, {}, {3, 8, 17, 22});
  const std::vector<int64_t> order = epoch_order(40, 5, 1);
  const auto batches = batches_of(order, 6);  // 6 batches, the last 4 samples dropped
  std::vector<std::vector<float>> reference;
  for (const auto& idx : batches) {
    Tensor<float> x;
    std::vector<int32_t> labels;
    load_batch(data, idx, 5, LoadMode::training(1), x, labels);
    reference.emplace_back(x.data(), x.data() + x.numel());
  }
  for (int workers : {1, 2, 4}) {
    LoaderOptions opt;
    opt.workers = workers;
    BatchLoader loader(data, batches, 5, LoadMode::training(1), opt);
    EXPECT_EQ(loader.workers(), workers);
    int64_t n = 0;
    while (const LoadedBatch* b = loader.next()) {
      ASSERT_LT(n, 6);
      EXPECT_EQ(b->number, n);
      EXPECT_EQ(b->indices, batches[n]);
      EXPECT_EQ(b->shape, (Shape{6, 3, 5, 5}));
      std::vector<int32_t> want_labels;
      for (int64_t i : batches[n]) want_labels.push_back(static_cast<int32_t>(i % 3));
      EXPECT_EQ(b->labels, want_labels);
      EXPECT_EQ(std::vector<float>(b->x, b->x + 6 * 75), reference[n]) << "workers " << workers << " batch " << n;
      ++n;
    }
    EXPECT_EQ(n, 6);
    EXPECT_EQ(loader.next(), nullptr);  // stays at the end
  }
}

TEST(Loader, BatchesInFlightAreBoundedByTheRing) {
  const FakeDataset data(200);
  std::vector<int64_t> order(200);
  for (int64_t i = 0; i < 200; ++i) order[i] = i;
  LoaderOptions opt;
  opt.workers = 4;
  opt.prefetch = 2;
  BatchLoader loader(data, batches_of(order, 10), 4, LoadMode::eval(), opt);
  EXPECT_EQ(loader.slots(), 3);
  ASSERT_NE(loader.next(), nullptr);
  // The consumer holds batch 0: the workers may fill batches 1 and 2, and nothing more.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(data.loads(), 30);
  for (int i = 0; i < 5; ++i) ASSERT_NE(loader.next(), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(data.loads(), 80);  // holding batch 5: batches up to 7 loaded
  EXPECT_LE(loader.max_batches_in_flight(), 3);
}

TEST(Loader, FirstBadSampleInBatchOrderIsTheError) {
  // Sample 7 (second in its batch) is slow and bad; sample 9 (fourth) fails at once: 7 is named.
  const FakeDataset data(12, {7, 9}, {}, {7});
  for (int workers : {1, 3}) {
    LoaderOptions opt;
    opt.workers = workers;
    BatchLoader loader(data, {{0, 1, 2, 3}, {6, 7, 8, 9}, {10, 11, 4, 5}}, 3, LoadMode::eval(), opt);
    ASSERT_NE(loader.next(), nullptr);  // batch 0 is fine
    const std::string e = error_of(loader);
    EXPECT_THAT(e, HasSubstr("fake/7.jpg: corrupt or truncated JPEG"));
    EXPECT_THAT(e, HasSubstr("--on-bad-image skip"));
    EXPECT_THAT(e, ::testing::Not(HasSubstr("fake/9.jpg")));
  }
}

TEST(Loader, SkipLeavesBadSamplesOutAndReportsThem) {
  const FakeDataset data(12, {7, 9, 0}, {}, {7});
  LoaderOptions opt;
  opt.workers = 2;
  opt.on_bad_image = BadImagePolicy::Skip;
  std::vector<std::pair<int64_t, std::string>> reported;
  opt.on_skip = [&](int64_t i, const std::string& m) { reported.emplace_back(i, m); };
  BatchLoader loader(data, {{6, 7, 8, 9}, {10, 11, 4, 0}}, 3, LoadMode::eval(), opt);
  const LoadedBatch* b = loader.next();
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->indices, ElementsAre(6, 8));
  EXPECT_THAT(b->labels, ElementsAre(0, 2));
  EXPECT_THAT(b->skipped, ElementsAre(7, 9));
  EXPECT_EQ(b->shape, (Shape{2, 3, 3, 3}));
  std::vector<float> want(27);
  data.load(8, 3, LoadMode::eval(), want.data());
  EXPECT_EQ(std::vector<float>(b->x + 27, b->x + 54), want);  // sample 8 moved up into place 1
  b = loader.next();
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->indices, ElementsAre(10, 11, 4));
  EXPECT_EQ(loader.next(), nullptr);
  ASSERT_EQ(reported.size(), 3u);
  EXPECT_EQ(reported[0].first, 7);
  EXPECT_EQ(reported[2].first, 0);
  EXPECT_THAT(reported[1].second, HasSubstr("fake/9.jpg: corrupt"));
}

TEST(Loader, SkipInTrainingKeepsTheBatchSizeWithTheNextReadableSample) {
  const FakeDataset data(12, {7, 9, 4, 5});
  LoaderOptions opt;
  opt.workers = 2;
  opt.on_bad_image = BadImagePolicy::Skip;
  BatchLoader loader(data, {{6, 7, 8, 9}, {10, 11, 4, 5}, {4, 5, 7, 9}}, 3, LoadMode::training(2), opt);
  const LoadedBatch* b = loader.next();
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->indices, ElementsAre(6, 8, 8, 6));  // 7 takes 8's copy; 9 wraps around to 6
  EXPECT_THAT(b->labels, ElementsAre(0, 2, 2, 0));
  EXPECT_THAT(b->skipped, ElementsAre(7, 9));
  std::vector<float> six(27), eight(27);
  data.load(6, 3, LoadMode::training(2), six.data());
  data.load(8, 3, LoadMode::training(2), eight.data());
  EXPECT_EQ(std::vector<float>(b->x + 27, b->x + 54), eight);
  EXPECT_EQ(std::vector<float>(b->x + 81, b->x + 108), six);
  b = loader.next();
  EXPECT_THAT(b->indices, ElementsAre(10, 11, 10, 10));
  // A batch with nothing readable cannot be trained on.
  Tensor<float> x;
  std::vector<int32_t> labels;
  EXPECT_THAT(testing::user_error_of([&] { loader.next_into(x, labels); }),
              HasSubstr("every image of batch 2 was skipped as unreadable"));
}

TEST(Loader, InternalErrorsAreNeverSkipped) {
  const FakeDataset data(8, {}, {5});
  LoaderOptions opt;
  opt.on_bad_image = BadImagePolicy::Skip;
  BatchLoader loader(data, {{1, 5, 2}}, 3, LoadMode::eval(), opt);
  EXPECT_THAT(error_of(loader), HasSubstr("sample 5 broke"));
}

TEST(Loader, DestructionMidEpochReturnsPromptly) {
  const FakeDataset data(4000, {}, {}, {});
  std::vector<int64_t> order(4000);
  for (int64_t i = 0; i < 4000; ++i) order[i] = i;
  const auto t0 = std::chrono::steady_clock::now();
  {
    LoaderOptions opt;
    opt.workers = 4;
    BatchLoader loader(data, batches_of(order, 8), 16, LoadMode::eval(), opt);
    ASSERT_NE(loader.next(), nullptr);
    ASSERT_NE(loader.next(), nullptr);
  }
  {
    BatchLoader never_read(data, batches_of(order, 8), 16, LoadMode::eval(), {});
  }
  {
    // After an error was thrown out of next(), the loader still shuts down.
    const FakeDataset bad(40, {9});
    BatchLoader loader(bad, batches_of(std::vector<int64_t>(order.begin(), order.begin() + 40), 4), 4,
                       LoadMode::eval(), {});
    EXPECT_THAT(error_of(loader), HasSubstr("fake/9.jpg"));
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_LT(data.loads(), 4000);
}

TEST(Loader, NoBatchesAndWorkerCount) {
  const FakeDataset data(3);
  BatchLoader loader(data, {}, 4, LoadMode::eval(), {});
  EXPECT_EQ(loader.next(), nullptr);
  EXPECT_EQ(loader.workers(), 0);
  EXPECT_GE(resolve_workers(0), 1);
  EXPECT_EQ(resolve_workers(3), 3);
  EXPECT_THROW(resolve_workers(-1), UserError);
}

}  // namespace
}  // namespace thaw
