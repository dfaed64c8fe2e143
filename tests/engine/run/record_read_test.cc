#include "engine/run/record_read.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/support/user_error.h"

namespace thaw {
namespace {

using ::testing::HasSubstr;
using testkit::user_error_of;

RunConfig config_of(const std::string& config_json) {
  const std::string text = R"({"format": "thaw-record", "version": 1, "config": )" + config_json + "}";
  return recorded_config(parse_record(text, "r/record.json"), "r/record.json");
}

TEST(RecordRead, ConfigFieldsKeepTheirValuesAndMissingOnesTheirDefaults) {
  const RunConfig c = config_of(R"({"epochs": 3, "lr": 0.25, "seed": 18446744073709551615, "rrc_scale": [0.5, 1],
                                    "someday_field": "ignored"})");
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.lr, 0.25);
  EXPECT_EQ(c.seed, UINT64_MAX);
  EXPECT_EQ(c.rrc_scale, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(c.batch_size, RunConfig{}.batch_size);
}

TEST(RecordRead, NumbersThatAnIntegerFieldCannotHoldAreRefusedNamingTheField) {
  EXPECT_THAT(user_error_of([] { config_of(R"({"epochs": 2.5})"); }),
              HasSubstr("r/record.json: config.epochs is 2.5, expected an integer"));
  // Was undefined behaviour in the conversion (found by scripts/fuzz).
  EXPECT_THAT(user_error_of([] { config_of(R"({"epochs": 18446744073709551616})"); }),
              HasSubstr("config.epochs is 1.8446744073709552e+19, expected an integer"));
  EXPECT_THAT(user_error_of([] { config_of(R"({"seed": -1})"); }), HasSubstr("config.seed is -1, out of range for it"));
  EXPECT_THAT(user_error_of([] { config_of(R"({"threads": 1099511627776})"); }),
              HasSubstr("config.threads is 1099511627776, out of range for it"));
  EXPECT_THAT(user_error_of([] { config_of(R"({"class_weights": [1e300]})"); }),
              HasSubstr("config.class_weights is [1e+300], out of range for it"));
  EXPECT_THAT(user_error_of([] { config_of(R"({"epochs": "3"})"); }),
              HasSubstr("r/record.json: a field is missing or malformed"));
  EXPECT_THAT(user_error_of([] { config_of("[1]"); }), HasSubstr("r/record.json: \"config\" is not an object"));
}

TEST(RecordRead, FormatAndVersionAreChecked) {
  EXPECT_THAT(user_error_of([] { parse_record(R"({"format": 1, "version": 1})", "x.json"); }),
              HasSubstr("x.json: expected format \"thaw-record\""));
  EXPECT_THAT(user_error_of([] { parse_record(R"({"format": "thaw-record", "version": 1.5})", "x.json"); }),
              HasSubstr("x.json: no format version"));
  EXPECT_THAT(user_error_of([] { parse_record(R"({"format": "thaw-record", "version": 7})", "x.json"); }),
              HasSubstr("record format version 7 is newer than this thaw reads (2)"));
  EXPECT_THAT(user_error_of([] { parse_record(std::string("{}\0", 3), "x.json"); }), HasSubstr("x.json: not valid JSON"));
  EXPECT_THAT(user_error_of([] { parse_record(R"({"format": "thaw-record", "version": 1, "N": 1e40})", "x.json"); }),
              HasSubstr("x.json: N is 1e+40, expected an integer"));
  EXPECT_THAT(user_error_of([] {
                parse_record(R"({"format": "thaw-record", "version": 1, "result": {"steps": 2.5}})", "x.json");
              }),
              HasSubstr("x.json: result/steps is 2.5, expected an integer"));
}

}  // namespace
}  // namespace thaw
