// record.json: the config's round trip, and the format checks replay makes before anything else.
#include "engine/run/record.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace thaw {
namespace {

TEST(Record, RunConfigRoundTripsAndMissingFieldsKeepTheirDefaults) {
  RunConfig c;
  c.data = "/data/x";
  c.lr = 0.1 + 0.2;  // not a short decimal: must come back bit for bit
  c.class_weights = {0.3f, 1.7f};
  c.seed = 0xfedcba9876543210ull;
  c.nesterov = true;
  const RunConfig back = nlohmann::json::parse(nlohmann::json(c).dump()).get<RunConfig>();
  EXPECT_EQ(back.data, c.data);
  EXPECT_EQ(back.lr, c.lr);
  EXPECT_EQ(back.class_weights, c.class_weights);
  EXPECT_EQ(back.seed, c.seed);
  EXPECT_TRUE(back.nesterov);
  const RunConfig partial = nlohmann::json::parse(R"({"epochs": 3})").get<RunConfig>();
  EXPECT_EQ(partial.epochs, 3);
  EXPECT_EQ(partial.batch_size, RunConfig{}.batch_size);
  EXPECT_EQ(partial.lr_schedule, "cosine");
}

std::string user_error_of(const std::filesystem::path& dir) {
  try {
    read_record(dir);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Record, ReadRecordChecksFormatAndVersion) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "thaw_record_test";
  std::filesystem::create_directories(dir);
  EXPECT_NE(user_error_of(dir / "none").find("no record.json"), std::string::npos);
  const auto write = [&](const std::string& text) { std::ofstream(dir / "record.json") << text; };
  write(R"({"format": "thaw-record", "version": 1})");
  EXPECT_EQ(user_error_of(dir), "");  // version 1 records are still read (and replayed by their rule)
  write(R"({"format": "thaw-record", "version": 2})");
  EXPECT_EQ(user_error_of(dir), "");
  write(R"({"format": "thaw-record", "version": 3})");
  EXPECT_NE(user_error_of(dir).find("version 3 is newer than this thaw reads (2)"), std::string::npos);
  write(R"({"format": "other", "version": 1})");
  EXPECT_NE(user_error_of(dir).find("expected format"), std::string::npos);
  write("{not json");
  EXPECT_NE(user_error_of(dir).find("not valid JSON"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace thaw
