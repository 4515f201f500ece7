// A status check shared by the unit tests: the code, and a fragment the
// message must name.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "common/base/status.h"

namespace anchorage::testing {

inline void ExpectError(const Status& status, Status::Code code,
                        const std::string& fragment) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_NE(status.message().find(fragment), std::string::npos)
      << "'" << fragment << "' not in " << status.ToString();
}

}  // namespace anchorage::testing
