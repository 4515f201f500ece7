#include "common/base/status.h"

#include <string>

#include <gtest/gtest.h>

namespace anchorage {
namespace {

TEST(StatusTest, OkIsOk) {
  const Status status = Status::Ok();
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  const Status status = Status::InvalidArgument("--lr must be > 0, got -1");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(status.ToString(), "INVALID_ARGUMENT: --lr must be > 0, got -1");
}

TEST(StatusOrTest, HoldsValueOrStatus) {
  const StatusOr<std::string> value = std::string("anchor");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "anchor");

  const StatusOr<std::string> error = Status::NotFound("no such file: x");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), Status::Code::kNotFound);
}

TEST(StatusOrDeathTest, ValueOfErrorAborts) {
  const StatusOr<int> error = Status::Internal("boom");
  EXPECT_DEATH((void)error.value(), "value\\(\\) of a failed StatusOr");
}

}  // namespace
}  // namespace anchorage
