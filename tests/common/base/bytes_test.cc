#include "common/base/bytes.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage {
namespace {

TEST(BytesTest, EveryFieldRoundTrips) {
  ByteWriter writer;
  writer.U8(7);
  writer.U32(0xdeadbeef);
  writer.U64(UINT64_MAX);
  writer.I64(-3);
  writer.F64(std::numeric_limits<double>::quiet_NaN());
  writer.Bool(true);
  writer.String("anchor");
  const std::vector<float> floats = {1.5F, -0.0F, 3e38F};
  writer.Floats(floats);
  const std::vector<uint32_t> indices = {0, 9, 4000000000U};
  writer.U32s(indices);
  writer.Scalars<double>(std::vector<double>{0.1, 0.2});

  ByteReader reader(writer.bytes());
  EXPECT_EQ(reader.U8(), 7);
  EXPECT_EQ(reader.U32(), 0xdeadbeef);
  EXPECT_EQ(reader.U64(), UINT64_MAX);
  EXPECT_EQ(reader.I64(), -3);
  EXPECT_TRUE(std::isnan(reader.F64()));
  EXPECT_TRUE(reader.Bool());
  EXPECT_EQ(reader.String(), "anchor");
  std::vector<float> floats_back;
  reader.Floats(&floats_back, 3);
  EXPECT_EQ(floats_back, floats);
  std::vector<uint32_t> indices_back;
  reader.U32s(&indices_back, 3);
  EXPECT_EQ(indices_back, indices);
  std::vector<double> doubles;
  reader.Scalars(&doubles, 2);
  EXPECT_EQ(doubles, (std::vector<double>{0.1, 0.2}));
  EXPECT_TRUE(reader.Finish().ok()) << reader.status().ToString();
}

TEST(BytesTest, TruncatedInputFailsAndReadsZeros) {
  ByteWriter writer;
  writer.U64(42);
  std::vector<uint8_t> bytes = writer.Take();
  bytes.pop_back();
  ByteReader reader(bytes);
  EXPECT_EQ(reader.U64(), 0U);
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), Status::Code::kDataLoss);
  EXPECT_NE(reader.status().message().find("truncated"), std::string::npos);
  EXPECT_EQ(reader.U32(), 0U);  // still failed, still zeros
}

TEST(BytesTest, ALengthLargerThanTheInputIsRefusedWithoutAllocating) {
  ByteWriter writer;
  writer.U64(uint64_t{1} << 60);  // a corrupt count
  ByteReader reader(writer.bytes());
  std::vector<float> values;
  reader.Floats(&values, UINT64_MAX);
  EXPECT_FALSE(reader.ok());
  EXPECT_TRUE(values.empty());
}

TEST(BytesTest, ACountAboveTheCallersBoundIsRefused) {
  ByteWriter writer;
  writer.Floats(std::vector<float>(4, 1.0F));
  ByteReader reader(writer.bytes());
  std::vector<float> values;
  reader.Floats(&values, 3);
  EXPECT_FALSE(reader.ok());
}

TEST(BytesTest, TrailingBytesFailFinish) {
  ByteWriter writer;
  writer.U32(1);
  writer.U8(0);
  ByteReader reader(writer.bytes());
  EXPECT_EQ(reader.U32(), 1U);
  const Status status = reader.Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("1 trailing bytes"), std::string::npos);
}

TEST(BytesTest, ABooleanOtherThanZeroOrOneIsCorrupt) {
  ByteWriter writer;
  writer.U8(2);
  ByteReader reader(writer.bytes());
  reader.Bool();
  EXPECT_FALSE(reader.ok());
}

}  // namespace
}  // namespace anchorage
