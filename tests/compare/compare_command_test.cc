// `anchorage compare --study custom` through the library entry point, on a
// tiny synthetic setting: every file is written and well-formed.
#include "compare/compare_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compare/report.h"

namespace anchorage::compare {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// The third CSV field (the algorithm column) of a line without quotes.
std::string AlgorithmColumn(const std::string& line) {
  const size_t first = line.find(',');
  const size_t second = line.find(',', first + 1);
  const size_t third = line.find(',', second + 1);
  return line.substr(second + 1, third - second - 1);
}

class CompareCommandTest : public ::testing::Test {
 protected:
  static int Run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    argv.reserve(args.size());
    for (const std::string& arg : args) {
      argv.push_back(arg.c_str());
    }
    return RunCompareCommand(static_cast<int>(argv.size()), argv.data());
  }

  std::string dir_ = ::testing::TempDir() + "/compare_command_test";
};

TEST_F(CompareCommandTest, CustomStudyWritesEveryFile) {
  std::filesystem::remove_all(dir_);

  const int code =
      Run({"compare", "--study", "custom", "--algorithms",
           "local-sgd,overlap-local-sgd", "--dataset", "synthetic-gaussian",
           "--model", "mlp:16", "--workers", "2", "--epochs", "1",
           "--eval-points", "5", "--out-dir", dir_});

  ASSERT_EQ(code, 0);
  const std::vector<std::string> csv = Lines(ReadFile(dir_ + "/results.csv"));
  ASSERT_GT(csv.size(), 2U);
  EXPECT_EQ(csv[0], kResultsCsvHeader);
  // One contiguous block of rows per algorithm, in --algorithms order.
  std::vector<std::string> blocks;
  for (size_t i = 1; i < csv.size(); ++i) {
    EXPECT_EQ(csv[i].rfind("custom,custom,", 0), 0U) << csv[i];
    const std::string algorithm = AlgorithmColumn(csv[i]);
    if (blocks.empty() || blocks.back() != algorithm) {
      blocks.push_back(algorithm);
    }
  }
  EXPECT_EQ(blocks,
            (std::vector<std::string>{"local-sgd", "overlap-local-sgd"}));
  // Five evaluations plus the one at the start, per run.
  EXPECT_EQ(csv.size(), 1U + 2U * 6U);

  const std::string summary = ReadFile(dir_ + "/summary.md");
  EXPECT_NE(summary.find("| setting"), std::string::npos);
  EXPECT_NE(summary.find("local-sgd"), std::string::npos);
  EXPECT_NE(summary.find("overlap-local-sgd"), std::string::npos);
  EXPECT_NE(summary.find("## Verdict"), std::string::npos);
  for (const char* figure :
       {"accuracy_vs_time.svg", "loss_vs_time.svg", "accuracy_vs_bytes.svg",
        "train_loss_vs_examples.svg"}) {
    const std::string svg = ReadFile(dir_ + "/" + figure);
    EXPECT_TRUE(svg.rfind("<svg", 0) == 0 || svg.rfind("<?xml", 0) == 0)
        << figure;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << figure;
  }
}

TEST_F(CompareCommandTest, UnknownStudyIsAFlagError) {
  EXPECT_EQ(Run({"compare", "--study", "bogus", "--out-dir", dir_}), 2);
}

TEST_F(CompareCommandTest, FailedRunIsARuntimeError) {
  EXPECT_EQ(Run({"compare", "--algorithms", "local-sgd", "--data-dir",
                 dir_ + "/nowhere", "--epochs", "1", "--out-dir", dir_}),
            1);
}

}  // namespace
}  // namespace anchorage::compare
