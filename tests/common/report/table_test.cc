#include "common/report/table.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/status.h"

namespace anchorage::report {
namespace {

TEST(MarkdownTableTest, RendersHeaderAlignmentAndRows) {
  const StatusOr<std::string> table = RenderMarkdownTable(
      {"algorithm", "time (s)"}, {{"sync", "41.2"}, {"overlap", "18"}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*table,
            "| algorithm | time (s) |\n"
            "| --------- | -------: |\n"
            "| sync      |     41.2 |\n"
            "| overlap   |       18 |\n");
}

TEST(MarkdownTableTest, RightAlignsOnlyColumnsWhereEveryCellIsANumber) {
  const StatusOr<std::string> table = RenderMarkdownTable(
      {"a", "b", "c", "d", "e"},
      {{"1", "x", "-2.5e-3", "", "1.5"}, {"+3", "4", "", "", "1.5 s"}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const std::string alignment = table->substr(table->find('\n') + 1);
  EXPECT_EQ(alignment.substr(0, alignment.find('\n')),
            "| ---: | --- | ------: | --- | ----- |");
}

TEST(MarkdownTableTest, TreatsFormatNumberOutputForNonFiniteAsNumbers) {
  const StatusOr<std::string> table = RenderMarkdownTable(
      {"time"}, {{FormatNumber(12.5)},
                 {FormatNumber(std::numeric_limits<double>::quiet_NaN())},
                 {FormatNumber(std::numeric_limits<double>::infinity())}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*table,
            "| time |\n"
            "| ---: |\n"
            "| 12.5 |\n"
            "|  n/a |\n"
            "|  inf |\n");
}

TEST(MarkdownTableTest, DoesNotTreatWordsLikeInfinityAsNumbers) {
  const StatusOr<std::string> table =
      RenderMarkdownTable({"x"}, {{"1"}, {"infinity"}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_NE(table->find("| -------- |"), std::string::npos) << *table;
}

TEST(MarkdownTableTest, EscapesPipesAndFlattensNewlines) {
  const StatusOr<std::string> table =
      RenderMarkdownTable({"a|b"}, {{"one\ntwo"}, {"x\r\ny|z\rw"}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*table,
            "| a\\|b     |\n"
            "| -------- |\n"
            "| one two  |\n"
            "| x y\\|z w |\n");
}

TEST(MarkdownTableTest, PadsShortRowsWithEmptyCells) {
  const StatusOr<std::string> table =
      RenderMarkdownTable({"a", "b", "c"}, {{"x"}, {}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(*table,
            "| a   | b   | c   |\n"
            "| --- | --- | --- |\n"
            "| x   |     |     |\n"
            "|     |     |     |\n");
}

TEST(MarkdownTableTest, PadsByCharactersNotBytes) {
  const StatusOr<std::string> table =
      RenderMarkdownTable({"name"}, {{"τ=8"}, {"abcd"}});

  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_NE(table->find("| τ=8  |"), std::string::npos) << *table;
}

TEST(MarkdownTableTest, RejectsARowLongerThanTheHeader) {
  const StatusOr<std::string> table =
      RenderMarkdownTable({"a", "b"}, {{"1", "2"}, {"1", "2", "3"}});

  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(table.status().message().find("row 1 has 3 cells"),
            std::string::npos)
      << table.status().message();
}

TEST(MarkdownTableTest, RejectsAnEmptyHeader) {
  const StatusOr<std::string> table = RenderMarkdownTable({}, {});

  EXPECT_EQ(table.status().code(), Status::Code::kInvalidArgument);
}

TEST(CsvTest, WritesPlainFieldsAsTheyAre) {
  EXPECT_EQ(RenderCsv({"algorithm", "time_s"}, {{"sync", "41.2"}, {"a b", ""}}),
            "algorithm,time_s\n"
            "sync,41.2\n"
            "a b,\n");
}

TEST(CsvTest, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  EXPECT_EQ(RenderCsv({"h"}, {{"a,b"}, {"say \"hi\""}, {"x\ny"}, {"x\ry"}}),
            "h\n"
            "\"a,b\"\n"
            "\"say \"\"hi\"\"\"\n"
            "\"x\ny\"\n"
            "\"x\ry\"\n");
}

TEST(CsvTest, KeepsASingleEmptyFieldDistinctFromABlankLine) {
  EXPECT_EQ(RenderCsv({"only"}, {{""}, {}}), "only\n\"\"\n\n");
}

TEST(CsvTest, SkipsAnEmptyHeader) {
  EXPECT_EQ(RenderCsv({}, {{"1", "2"}}), "1,2\n");
  EXPECT_EQ(RenderCsv({}, {}), "");
}

TEST(FormatNumberTest, RoundsToSignificantDigits) {
  EXPECT_EQ(FormatNumber(0.5), "0.5");
  EXPECT_EQ(FormatNumber(1234.567), "1235");
  EXPECT_EQ(FormatNumber(3.14159265), "3.142");
  EXPECT_EQ(FormatNumber(3.14159265, 2), "3.1");
  EXPECT_EQ(FormatNumber(3.14159265, 6), "3.14159");
  EXPECT_EQ(FormatNumber(-12.5), "-12.5");
  EXPECT_EQ(FormatNumber(100.0), "100");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
}

TEST(FormatNumberTest, AvoidsExponentsInsideTheReadableRange) {
  EXPECT_EQ(FormatNumber(12345678.0), "12350000");
  EXPECT_EQ(FormatNumber(999999999.0, 9), "999999999");
  EXPECT_EQ(FormatNumber(0.000123456), "0.0001235");
  EXPECT_EQ(FormatNumber(1e-4), "0.0001");
}

TEST(FormatNumberTest, UsesExponentsOutsideTheReadableRange) {
  EXPECT_EQ(FormatNumber(1.5e9), "1.5e+09");
  EXPECT_EQ(FormatNumber(2e-5), "2e-05");
  EXPECT_EQ(FormatNumber(-6.02214076e23), "-6.022e+23");
  // Rounding up to 1e9 crosses the boundary.
  EXPECT_EQ(FormatNumber(999999999.6), "1e+09");
}

TEST(FormatNumberTest, CarriesRoundingIntoTheNextDigit) {
  EXPECT_EQ(FormatNumber(999.96), "1000");
  EXPECT_EQ(FormatNumber(0.099996), "0.1");
}

TEST(FormatNumberTest, NamesSpecialValues) {
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::quiet_NaN()), "n/a");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatNumber(0.0), "0");
  EXPECT_EQ(FormatNumber(-0.0), "0");
}

TEST(FormatNumberTest, ClampsTheDigitCount) {
  EXPECT_EQ(FormatNumber(3.14159, 0), "3");
  EXPECT_EQ(FormatNumber(0.1, 40), "0.10000000000000001");
}

}  // namespace
}  // namespace anchorage::report
