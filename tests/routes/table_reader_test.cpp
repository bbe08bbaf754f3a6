// The shape of rows, as a depot sees it: a row with a cell too many or too few is read, and the
// warning says which file, which line and what was done with the cells.
#include "routes/table_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stopcall::routes {
namespace {

using ::testing::HasSubstr;
using StringStream = MemoryStream;

std::string all_messages(const Problems& problems) {
  std::string out;
  for (const auto& p : problems.kept())
    out += p.to_string() + "\n";
  return out;
}

// Reads every row of `text` as stops.txt; returns stop_id,stop_name of each row.
std::vector<std::string> read_stops(const std::string& text, Problems& problems) {
  StringStream stream(text);
  TableReader table(stream, "stops.txt", 1024, problems);
  EXPECT_TRUE(table.columns({"stop_id"}, {"stop_name", "stop_lat"}));
  std::vector<std::string> rows;
  while (table.next())
    rows.push_back(std::string(table.need("stop_id")) + "," + std::string(table["stop_name"]));
  table.finish();
  return rows;
}

TEST(TableReader, ExtraEmptyCellIsDroppedWithAWarningNamingFileAndLine) {
  Problems problems;
  auto rows = read_stops("stop_id,stop_name\nS1,One\nS2,Two,\n", problems);
  EXPECT_EQ(rows, (std::vector<std::string>{"S1,One", "S2,Two"}));
  EXPECT_FALSE(problems.has_errors());
  EXPECT_EQ(all_messages(problems),
            "warning: stops.txt:3: the row has 3 cells, the header 2; the empty cell past the "
            "header is dropped\n");
}

TEST(TableReader, ExtraCellsWithTextAreListedAsIgnored) {
  Problems problems;
  auto rows = read_stops("stop_id,stop_name\nS1,One,Platform 2,,x\n", problems);
  EXPECT_EQ(rows, (std::vector<std::string>{"S1,One"}));
  ASSERT_EQ(problems.kept().size(), 1u);
  const auto& p = problems.kept()[0];
  EXPECT_EQ(p.severity, Severity::warning);
  EXPECT_EQ(p.line, 2u);
  EXPECT_EQ(p.value, "Platform 2");
  EXPECT_EQ(p.action,
            "ignored: cell 3 'Platform 2', cell 5 'x'; the empty cell past the header is dropped");
}

TEST(TableReader, MissingTrailingCellsReadAsEmptyWithAWarning) {
  Problems problems;
  auto rows = read_stops("stop_id,stop_name,stop_lat\nS1,One\n", problems);
  EXPECT_EQ(rows, (std::vector<std::string>{"S1,One"}));
  EXPECT_FALSE(problems.has_errors());
  EXPECT_EQ(all_messages(problems),
            "warning: stops.txt:2: the row has 2 cells, the header 3; read as empty: stop_lat\n");
}

TEST(TableReader, ARequiredValueCutOffIsAnErrorThatSaysTheRowWasShort) {
  Problems problems;
  StringStream stream("stop_name,stop_id\nOne\n");
  TableReader table(stream, "stops.txt", 1024, problems);
  ASSERT_TRUE(table.columns({"stop_id"}));
  ASSERT_TRUE(table.next());
  EXPECT_EQ(table.need("stop_id"), "");
  EXPECT_TRUE(problems.has_errors());
  EXPECT_THAT(all_messages(problems),
              HasSubstr("error: stops.txt:2: stop_id: required value is missing: the row has 1 "
                        "cell, the header 2"));
}

TEST(TableReader, ANamelessLastHeaderCellMakesNoRowShort) {
  // "a,b," headers come from spreadsheets; rows without the trailing comma lose nothing.
  Problems problems;
  auto rows = read_stops("stop_id,stop_name,\nS1,One\nS2,Two,\n", problems);
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(problems.warning_count(), 0u) << all_messages(problems);
}

TEST(TableReader, ManyShortRowsAreSummedUpWithTheLinesTheySpan) {
  Problems problems;
  std::string text = "stop_id,stop_name,stop_lat\n";
  for (int i = 0; i < 500; ++i)
    text += "S" + std::to_string(i) + ",Name\n";
  auto rows = read_stops(text, problems);
  EXPECT_EQ(rows.size(), 500u);
  EXPECT_EQ(all_messages(problems),
            "warning: stops.txt:2: the row has 2 cells, the header 3; read as empty: stop_lat\n"
            "warning: stops.txt:3: 499 more rows have fewer cells than the header, from this "
            "line to line 501; read the same way: the missing cells read as empty\n");
}

TEST(TableReader, AMissingRequiredColumnIsAnError) {
  Problems problems;
  StringStream stream("stop_name\nOne\n");
  TableReader table(stream, "stops.txt", 1024, problems);
  EXPECT_FALSE(table.columns({"stop_id"}));
  EXPECT_THAT(all_messages(problems),
              HasSubstr("error: stops.txt:1: stop_id: required column stop_id is missing"));
}

}  // namespace
}  // namespace stopcall::routes
