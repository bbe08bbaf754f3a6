#include "routes/csv.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace stopcall::routes {
namespace {

using StringStream = MemoryStream;

std::vector<std::vector<std::string>> read_all(const std::string& text,
                                               std::vector<std::uint64_t>* lines = nullptr) {
  StringStream stream(text);
  CsvReader reader(stream, "test.txt", 1024);
  std::vector<std::vector<std::string>> rows;
  rows.push_back(reader.header());
  while (reader.next()) {
    std::vector<std::string> row;
    for (std::size_t i = 0; i < reader.field_count(); ++i) {
      row.emplace_back(reader.field(static_cast<int>(i)));
    }
    rows.push_back(row);
    if (lines) lines->push_back(reader.line());
  }
  return rows;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvReader, ReadsHeaderAndRecords) {
  EXPECT_EQ(read_all("a,b\n1,2\n3,4\n"), (Rows{{"a", "b"}, {"1", "2"}, {"3", "4"}}));
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  auto rows = read_all("\xEF\xBB\xBFstop_id,stop_name\nS1,Main St\n");
  EXPECT_EQ(rows[0][0], "stop_id");
}

TEST(CsvReader, AcceptsCrLfAndLoneCrLineEndsMixed) {
  std::vector<std::uint64_t> lines;
  auto rows = read_all("a,b\r\n1,2\r3,4\n5,6", &lines);
  EXPECT_EQ(rows, (Rows{{"a", "b"}, {"1", "2"}, {"3", "4"}, {"5", "6"}}));
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{2, 3, 4}));
}

TEST(CsvReader, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  std::vector<std::uint64_t> lines;
  auto rows = read_all(
      "name,x\n\"Civic Center, North\",1\n\"say \"\"hi\"\"\",2\n\"two\nlines\",3\nz,4\n", &lines);
  EXPECT_EQ(rows[1][0], "Civic Center, North");
  EXPECT_EQ(rows[2][0], "say \"hi\"");
  EXPECT_EQ(rows[3][0], "two\nlines");
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{2, 3, 4, 6}));
}

TEST(CsvReader, TrimsSurroundingSpacesAndKeepsEmptyFields) {
  auto rows = read_all("a,b,c\n  x , ,z  \n1,,\n");
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x", "", "z"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"1", "", ""}));
}

TEST(CsvReader, SkipsBlankLines) {
  EXPECT_EQ(read_all("a\n1\n\n\n2\n\n"), (Rows{{"a"}, {"1"}, {"2"}}));
}

TEST(CsvReader, MissingTrailingFieldReadsAsEmpty) {
  StringStream stream("a,b,c\n1,2\n");
  CsvReader reader(stream, "t.txt", 1024);
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.field(reader.column("c")), "");
  EXPECT_EQ(reader.column("nope"), -1);
}

TEST(CsvReader, EmptyFileHasNoHeader) {
  StringStream stream("");
  CsvReader reader(stream, "agency.txt", 1024);
  EXPECT_TRUE(reader.header().empty());
  EXPECT_FALSE(reader.next());
}

TEST(CsvReader, NulByteIsAnErrorWithItsLine) {
  StringStream stream(std::string("a,b\n1,2\n3,\0\n", 12));
  CsvReader reader(stream, "stops.txt", 1024);
  ASSERT_TRUE(reader.next());
  try {
    reader.next();
    FAIL() << "expected an error";
  } catch (const CsvError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_NE(std::string(e.what()).find("NUL"), std::string::npos);
  }
}

TEST(CsvReader, InvalidUtf8NamesLineAndColumn) {
  StringStream stream("stop_id,stop_name\nS1,ok\nS2,caf\xE9\n");
  CsvReader reader(stream, "stops.txt", 1024);
  ASSERT_TRUE(reader.next());
  try {
    reader.next();
    FAIL() << "expected an error";
  } catch (const CsvError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_NE(std::string(e.what()).find("stop_name"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0xE9"), std::string::npos) << e.what();
  }
}

// Found by fuzz/csv.cpp: the check ran over the record's fields back to back, so a character
// whose bytes a comma split ("caf\xC3" and "\xA9") passed as one, and both values were stored
// broken.
TEST(CsvReader, ACharacterSplitByACommaIsNotUtf8) {
  StringStream stream("stop_id,stop_name,stop_desc\nS1,caf\xC3,\xA9t\xC3\xA9\n");
  CsvReader reader(stream, "stops.txt", 1024);
  try {
    reader.next();
    FAIL() << "expected an error";
  } catch (const CsvError& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_NE(std::string(e.what()).find("0xC3 in stop_name"), std::string::npos) << e.what();
  }
}

TEST(CsvReader, HugeRecordIsRefusedWithoutReadingItAll) {
  std::string huge = "a\n" + std::string(10'000'000, 'x') + "\n";
  StringStream stream(huge, 1 << 16);
  CsvReader reader(stream, "stops.txt", 64 << 10);
  EXPECT_THROW(reader.next(), CsvError);
}

TEST(CsvReader, UnterminatedQuoteIsAnError) {
  StringStream stream("a,b\n\"open,1\n2,3\n");
  CsvReader reader(stream, "t.txt", 1024);
  EXPECT_THROW(reader.next(), CsvError);
}

TEST(Utf8, AcceptsChineseAndRejectsOverlongAndSurrogates) {
  EXPECT_FALSE(first_invalid_utf8("深圳市民中心 Civic Center 車公廟"));
  EXPECT_EQ(first_invalid_utf8("ab\xC0\xAF"), 2u);           // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xED\xA0\x80"), 0u);         // UTF-16 surrogate
  EXPECT_EQ(first_invalid_utf8("x\xE4\xB8"), 1u);            // truncated sequence
  EXPECT_FALSE(first_invalid_utf8("\xF0\x9F\x9A\x8C bus"));  // 4-byte sequence
}

}  // namespace
}  // namespace stopcall::routes
