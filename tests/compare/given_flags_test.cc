// The flags a user set, so presets keep them.
#include "compare/given_flags.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace anchorage::compare {
namespace {

TEST(CompareGivenFlagsTest, ReadsFlagsWithAndWithoutEquals) {
  const char* argv[] = {"compare",  "--workers",  "8",
                        "--lr=0.1", "--nesterov", "-h"};

  const std::set<std::string> given = GivenFlags(6, argv);

  EXPECT_EQ(given, (std::set<std::string>{"--workers", "--lr", "--nesterov"}));
}

TEST(CompareGivenFlagsTest, ReadsConfigFileKeys) {
  const std::string path = ::testing::TempDir() + "/given_flags_test.yaml";
  std::ofstream(path) << "local_steps: 4\nmodel: softmax\n";
  const std::string flag = "--config=" + path;
  const char* argv[] = {"compare", flag.c_str()};

  const std::set<std::string> given = GivenFlags(2, argv);

  EXPECT_EQ(given,
            (std::set<std::string>{"--config", "--local-steps", "--model"}));
}

}  // namespace
}  // namespace anchorage::compare
