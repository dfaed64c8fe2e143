// The CSV reader against RFC 4180's cases: quoting, doubled quotes, line breaks inside quotes,
// CRLF, a byte order mark, and the errors that must name the line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io/csv.h"
#include "tests/io/io_test_support.h"
#include "tests/support/rejection_cost.h"

namespace thaw {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::user_error_of;

TEST(Csv, PlainRowsWithLineNumbers) {
  const CsvTable t = parse_csv("path,label\na.jpg,cat\n\nb.jpg,dog\n", "m.csv");
  EXPECT_EQ(t.source, "m.csv");
  EXPECT_THAT(t.header, ElementsAre("path", "label"));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_THAT(t.rows[1], ElementsAre("b.jpg", "dog"));
  EXPECT_THAT(t.lines, ElementsAre(2, 4));  // the blank line 3 is skipped but counted
  EXPECT_EQ(t.column("label"), 1);
  EXPECT_EQ(t.column("split"), -1);
}

TEST(Csv, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const CsvTable t = parse_csv("\xEF\xBB\xBFpath,label\r\n\"a, b.jpg\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",x\r\nlast,\"\"",
                               "q.csv");
  EXPECT_THAT(t.header, ElementsAre("path", "label"));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_THAT(t.rows[0], ElementsAre("a, b.jpg", "say \"hi\""));
  EXPECT_THAT(t.rows[1], ElementsAre("two\nlines", "x"));
  EXPECT_THAT(t.rows[2], ElementsAre("last", ""));
  EXPECT_THAT(t.lines, ElementsAre(2, 3, 5));
}

TEST(Csv, TrailingEmptyFieldAndLoneCr) {
  const CsvTable t = parse_csv("a,b\r1,\r", "cr.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre("1", ""));
}

TEST(Csv, ErrorsNameTheFileAndLine) {
  EXPECT_THAT(user_error_of([] { parse_csv("a,b\n1,2\n3\n", "bad.csv"); }),
              HasSubstr("bad.csv: line 3: expected 2 fields as in the header, got 1"));
  EXPECT_THAT(user_error_of([] { parse_csv("a,b\n1,\"open\n2,3\n", "bad.csv"); }),
              HasSubstr("bad.csv: line 2: a quoted field is never closed"));
  EXPECT_THAT(user_error_of([] { parse_csv("a,b\n1,x\"y\n", "bad.csv"); }), HasSubstr("line 2: a quote inside"));
  EXPECT_THAT(user_error_of([] { parse_csv("a,b\n\"1\"x,2\n", "bad.csv"); }), HasSubstr("line 2: unexpected character"));
  EXPECT_THAT(user_error_of([] { parse_csv("\n\n", "empty.csv"); }), HasSubstr("empty.csv: no header line"));
}

TEST(Csv, FieldQuotingRoundTrips) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
  const std::string row = csv_field("x,\"y\"\n") + "," + csv_field("z");
  const CsvTable t = parse_csv("h1,h2\n" + row + "\n", "rt.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_THAT(t.rows[0], ElementsAre("x,\"y\"\n", "z"));
}

}  // namespace
// The limits of io/csv.h: a field over 1 MiB and a record over 4096 fields are one line each.
TEST(Csv, OversizedFieldsAndRecordsAreRefused) {
  const std::string big = "a,b\n" + std::string((size_t{1} << 20) + 1, 'x') + ",1\n";
  EXPECT_THAT(testkit::refused_cheaply([&] { parse_csv(big, "big.csv"); }, "big.csv"),
              HasSubstr("big.csv: line 2: a field of more than 1 MiB"));
  std::string wide = "a";
  for (int i = 0; i < 5000; ++i) wide += ",";
  EXPECT_THAT(testkit::refused_cheaply([&] { parse_csv(wide + "\n", "wide.csv"); }, "wide.csv"),
              HasSubstr("wide.csv: line 1: more than 4096 fields in one record"));
  std::string ok = "a";
  for (int i = 1; i < 4096; ++i) ok += ",";
  EXPECT_EQ(parse_csv(ok + "\n", "ok.csv").header.size(), 4096u);
}

}  // namespace thaw
