// Files for tests: a fresh directory per test and whole-file reads and
// writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace anchorage::testing {

// Returns a fresh, empty directory for the current test, named
// `prefix`_suite_test_pid under gtest's TempDir so parallel ctest runs do
// not collide.
std::string FreshTestDir(std::string_view prefix);

// The bytes of `path` ("" if it cannot be read).
std::string ReadAll(const std::string& path);

// Replaces `path` with `bytes`; a failed write fails the test.
void WriteAll(const std::string& path, std::string_view bytes);

// The names of the entries of `dir`, sorted.
std::vector<std::string> ListDir(const std::string& dir);

}  // namespace anchorage::testing
