#include <array>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/io/file.h"
#include "common/io/json.h"
#include "common/io/npy.h"
#include "tests/testing/temp_files.h"

namespace anchorage::io {
namespace {

std::string TestDir() {
  return testing::FreshTestDir("io");
}

using testing::ReadAll;
using testing::WriteAll;

uint32_t Bits(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

// Header length field of a .npy file (bytes 8 and 9, little-endian).
size_t HeaderLength(const std::string& file) {
  return static_cast<uint8_t>(file[8]) |
         (static_cast<size_t>(static_cast<uint8_t>(file[9])) << 8);
}

TEST(NpyTest, RoundTripIsBitExact) {
  const std::string path = TestDir() + "/model.npy";
  const std::vector<float> values = {
      0.0F,
      -0.0F,
      1.5F,
      -3.25e-7F,
      std::numeric_limits<float>::denorm_min(),
      std::numeric_limits<float>::max(),
      std::numeric_limits<float>::lowest(),
      std::numeric_limits<float>::infinity(),
      123456.789F,
  };

  ASSERT_TRUE(WriteNpy(path, values).ok());
  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(Bits((*read)[i]), Bits(values[i])) << "index " << i;
  }
}

TEST(NpyTest, EmptyArrayRoundTrips) {
  const std::string path = TestDir() + "/empty.npy";

  ASSERT_TRUE(WriteNpy(path, {}).ok());
  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->empty());
  EXPECT_NE(ReadAll(path).find("'shape': (0,)"), std::string::npos);
}

TEST(NpyTest, HeaderFollowsNpyFormatVersionOne) {
  const std::string dir = TestDir();
  for (const size_t count :
       {size_t{1}, size_t{7}, size_t{1000}, size_t{101770}, size_t{1234567}}) {
    const std::string path = dir + "/" + std::to_string(count) + ".npy";
    const std::vector<float> values(count, 0.5F);
    ASSERT_TRUE(WriteNpy(path, values).ok());

    const std::string file = ReadAll(path);

    ASSERT_GE(file.size(), 10U);
    EXPECT_EQ(file.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_length = HeaderLength(file);
    EXPECT_EQ((10 + header_length) % 64, 0U) << "count " << count;
    ASSERT_EQ(file.size(), 10 + header_length + count * sizeof(float));
    const std::string header = file.substr(10, header_length);
    EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
    EXPECT_NE(header.find("'fortran_order': False"), std::string::npos)
        << header;
    EXPECT_NE(header.find("'shape': (" + std::to_string(count) + ",)"),
              std::string::npos)
        << header;
    EXPECT_EQ(header.front(), '{');
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(header.find('\n'), header.size() - 1) << header;
  }
}

TEST(NpyTest, DataIsLittleEndianFloat32AfterHeader) {
  const std::string path = TestDir() + "/data.npy";
  ASSERT_TRUE(WriteNpy(path, std::vector<float>{1.0F, -2.0F}).ok());

  const std::string file = ReadAll(path);

  const std::string data = file.substr(10 + HeaderLength(file));
  EXPECT_EQ(data, std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
}

TEST(NpyTest, WriteOverwritesExistingFile) {
  const std::string path = TestDir() + "/again.npy";
  ASSERT_TRUE(WriteNpy(path, std::vector<float>(100, 1.0F)).ok());

  ASSERT_TRUE(WriteNpy(path, std::vector<float>{2.0F}).ok());
  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, std::vector<float>{2.0F});
}

TEST(NpyTest, ReplacingAModelLeavesOnlyTheModel) {
  const std::string dir = TestDir();
  ASSERT_TRUE(WriteNpy(dir + "/kept.npy", std::vector<float>{3.0F}).ok());

  ASSERT_TRUE(WriteNpy(dir + "/kept.npy", std::vector<float>{5.0F}).ok());

  EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"kept.npy"});
  EXPECT_EQ(*ReadNpy(dir + "/kept.npy"), std::vector<float>{5.0F});
}

TEST(NpyTest, WriteToMissingDirectoryIsUnavailable) {
  const std::string path = TestDir() + "/no/such/dir/model.npy";

  const Status status = WriteNpy(path, std::vector<float>{1.0F});

  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find(path), std::string::npos)
      << status.ToString();
}

TEST(NpyTest, ReadOfMissingFileIsNotFound) {
  const std::string path = TestDir() + "/missing.npy";

  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kNotFound);
  EXPECT_NE(read.status().message().find(path), std::string::npos)
      << read.status().ToString();
}

TEST(NpyTest, ReadOfTruncatedFileIsDataLoss) {
  const std::string dir = TestDir();
  const std::string whole_path = dir + "/whole.npy";
  ASSERT_TRUE(WriteNpy(whole_path, std::vector<float>(10, 3.0F)).ok());
  const std::string whole = ReadAll(whole_path);
  // Cut inside the magic, inside the header, and inside the data.
  for (const size_t size : {size_t{0}, size_t{5}, size_t{9}, size_t{40},
                            whole.size() - 40, whole.size() - 1}) {
    const std::string path = dir + "/cut" + std::to_string(size) + ".npy";
    WriteAll(path, whole.substr(0, size));

    const StatusOr<std::vector<float>> read = ReadNpy(path);

    ASSERT_FALSE(read.ok()) << "cut to " << size;
    EXPECT_EQ(read.status().code(), Status::Code::kDataLoss)
        << read.status().ToString();
    EXPECT_NE(read.status().message().find(path), std::string::npos)
        << read.status().ToString();
  }
}

TEST(NpyTest, ReadOfFileWithExtraBytesIsDataLoss) {
  const std::string path = TestDir() + "/long.npy";
  ASSERT_TRUE(WriteNpy(path, std::vector<float>(3, 1.0F)).ok());
  WriteAll(path, ReadAll(path) + "xyz!");

  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
}

TEST(NpyTest, ReadOfOtherDtypeIsDataLoss) {
  const std::string path = TestDir() + "/f8.npy";
  ASSERT_TRUE(WriteNpy(path, std::vector<float>(2, 1.0F)).ok());
  std::string file = ReadAll(path);
  const size_t descr = file.find("'<f4'");
  ASSERT_NE(descr, std::string::npos);
  file.replace(descr, 5, "'<f8'");
  WriteAll(path, file);

  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
}

TEST(NpyTest, ReadOfNonNpyFileIsDataLoss) {
  const std::string path = TestDir() + "/text.npy";
  WriteAll(path, "this is not a numpy file at all, just some text\n");

  const StatusOr<std::vector<float>> read = ReadNpy(path);

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss);
}

// A shape of 2^62 elements makes `count * sizeof(float)` wrap to 0, so the
// size check passes for a file with no data and the reader then tries to
// allocate 2^62 floats.
TEST(NpyTest, ReadOfHugeShapeIsDataLoss) {
  const std::string path = TestDir() + "/huge.npy";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': "
      "(4611686018427387904,), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  const auto length = static_cast<uint16_t>(header.size());
  std::string file("\x93NUMPY\x01\x00", 8);
  file.push_back(static_cast<char>(length & 0xff));
  file.push_back(static_cast<char>(length >> 8));
  WriteAll(path, file + header);

  StatusOr<std::vector<float>> read = Status::Internal("not run");
  EXPECT_NO_THROW(read = ReadNpy(path));

  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kDataLoss)
      << read.status().ToString();
}

TEST(JsonTest, WriteJsonFileIndentsKeysInOrderWithKeySpaceValue) {
  const std::string path = TestDir() + "/out.json";
  const Json json = {{"name", "overlap \"local\" sgd"},
                     {"workers", 4},
                     {"accuracy", 0.875},
                     {"converged", true},
                     {"curve", {1, 2}}};

  ASSERT_TRUE(WriteJsonFile(path, json).ok());

  EXPECT_EQ(ReadAll(path),
            "{\n"
            "  \"name\": \"overlap \\\"local\\\" sgd\",\n"
            "  \"workers\": 4,\n"
            "  \"accuracy\": 0.875,\n"
            "  \"converged\": true,\n"
            "  \"curve\": [\n"
            "    1,\n"
            "    2\n"
            "  ]\n"
            "}\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(JsonTest, WriteJsonFileWritesNonFiniteNumbersAsNull) {
  const std::string path = TestDir() + "/out.json";
  const Json json = {{"nan", std::nan("")},
                     {"inf", std::numeric_limits<double>::infinity()}};

  ASSERT_TRUE(WriteJsonFile(path, json).ok());

  EXPECT_EQ(ReadAll(path), "{\n  \"nan\": null,\n  \"inf\": null\n}\n");
}

TEST(JsonTest, WriteJsonFileReplacesBytesThatAreNotUtf8) {
  const std::string path = TestDir() + "/out.json";
  const Json json = {{"text", std::string("caf\xc3\xa9 \xff")}};

  ASSERT_TRUE(WriteJsonFile(path, json).ok());

  EXPECT_EQ(ReadAll(path), "{\n  \"text\": \"caf\xc3\xa9 \xef\xbf\xbd\"\n}\n");
}

TEST(JsonTest, ReadJsonFileConvertsTheDocument) {
  const std::string path = TestDir() + "/in.json";
  WriteAll(path, "{\"ports\": [9100, 9101]}");

  const StatusOr<Json> read = ReadJsonFile<Json>(path);

  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->at("ports").get<std::vector<int>>(),
            (std::vector<int>{9100, 9101}));
}

TEST(JsonTest, ReadJsonFileProblemsAreDataLossNamingTheFile) {
  const std::string dir = TestDir();
  WriteAll(dir + "/truncated.json", "{\"ports\": [9100,");
  WriteAll(dir + "/mistyped.json", "{\"ports\": [\"9100\"]}");

  const StatusOr<std::vector<int>> missing =
      ReadJsonFile<std::vector<int>>(dir + "/missing.json");
  const StatusOr<Json> truncated = ReadJsonFile<Json>(dir + "/truncated.json");
  const StatusOr<std::vector<int>> mistyped =
      ReadJsonFile<std::vector<int>>(dir + "/mistyped.json");

  for (const Status& status :
       {missing.status(), truncated.status(), mistyped.status()}) {
    EXPECT_EQ(status.code(), Status::Code::kDataLoss) << status.ToString();
    EXPECT_NE(status.message().find(dir), std::string::npos)
        << status.ToString();
  }
  EXPECT_NE(truncated.status().message().find("parse error"),
            std::string::npos);
  EXPECT_NE(mistyped.status().message().find("type must be"), std::string::npos)
      << mistyped.status().ToString();
}

TEST(FileTest, WriteFileAtomicallyWritesContentsAndLeavesNoTemporary) {
  const std::string dir = TestDir();
  const std::string path = dir + "/summary.json";
  const std::string contents = "{\"ok\": true}\n";

  const Status status = WriteFileAtomically(path, contents);

  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(ReadAll(path), contents);
  EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"summary.json"});
}

TEST(FileTest, WriteFileAtomicallyReplacesExistingFile) {
  const std::string dir = TestDir();
  const std::string path = dir + "/ready.json";
  WriteAll(path, std::string(1000, 'x'));

  ASSERT_TRUE(WriteFileAtomically(path, "{}\n").ok());

  EXPECT_EQ(ReadAll(path), "{}\n");
  EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"ready.json"});
}

// A writer that fails (or is killed) before the rename leaves the previous
// file whole; a failure also removes its temporary file.
TEST(FileTest, AFailureBeforeTheRenameKeepsThePreviousFile) {
  const std::string dir = TestDir();
  const std::string path = dir + "/model.npy";
  WriteAll(path, "previous");
  for (const bool mid_write : {true, false}) {
    WriteHooks hooks;
    const auto fail = [] { return Status::Unavailable("stopped by the test"); };
    if (mid_write) {
      hooks.mid_write = fail;
    } else {
      hooks.before_rename = fail;
    }

    const Status status =
        WriteFileAtomically(path, std::string(4096, 'n'), hooks);

    EXPECT_EQ(status.code(), Status::Code::kUnavailable);
    EXPECT_EQ(ReadAll(path), "previous");
    EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"model.npy"});
  }
}

TEST(FileTest, AWriterKilledBeforeTheRenameLeavesThePreviousFile) {
  const std::string dir = TestDir();
  const std::string path = dir + "/summary.json";
  WriteAll(path, "previous");
  for (const bool mid_write : {true, false}) {
    EXPECT_EXIT(
        {
          WriteHooks hooks;
          const auto die = []() -> Status {
            ::raise(SIGKILL);
            return Status::Ok();
          };
          (mid_write ? hooks.mid_write : hooks.before_rename) = die;
          (void)WriteFileAtomically(path, std::string(4096, 'n'), hooks);
        },
        ::testing::KilledBySignal(SIGKILL), "");

    EXPECT_EQ(ReadAll(path), "previous");
  }
}

TEST(FileTest, WriteFileAtomicallyKeepsBinaryContents) {
  const std::string path = TestDir() + "/binary";
  const std::string contents("a\0b\r\n\xff", 6);

  ASSERT_TRUE(WriteFileAtomically(path, contents).ok());

  EXPECT_EQ(ReadAll(path), contents);
}

TEST(FileTest, WriteFileAtomicallyToMissingDirectoryIsUnavailable) {
  const std::string path = TestDir() + "/missing/summary.json";

  const Status status = WriteFileAtomically(path, "{}");

  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A file written from parts is their concatenation, however the parts
// fall about its middle, durable or not.
TEST(FileTest, WriteFileAtomicallyFromPartsWritesTheirConcatenation) {
  const std::string dir = TestDir();
  const std::string path = dir + "/cache.bin";
  const std::string_view parts[] = {"ab", "", "cdefg",
                                    std::string_view("\0h", 2)};
  for (const Durability durability :
       {Durability::kDurable, Durability::kAtomicOnly}) {
    WriteHooks hooks;
    std::string at_mid_write;
    hooks.mid_write = [&] {
      // The first half (4 of 9 bytes) is written, the rest not yet.
      for (const std::string& name : testing::ListDir(dir)) {
        if (name != "cache.bin") {
          at_mid_write = ReadAll((std::filesystem::path(dir) / name).string());
        }
      }
      return Status::Ok();
    };

    const Status status = WriteFileAtomically(path, parts, durability, hooks);

    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(ReadAll(path), std::string("abcdefg\0h", 9));
    EXPECT_EQ(at_mid_write, "abcd");
    EXPECT_EQ(testing::ListDir(dir), std::vector<std::string>{"cache.bin"});
  }
}

TEST(MappedFileTest, MapsTheWholeFile) {
  const std::string path = TestDir() + "/data.bin";
  const std::string contents("\x01\x02\0\xff tail", 9);
  WriteAll(path, contents);

  const StatusOr<MappedFile> file = MappedFile::Open(path);

  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(std::string(file->bytes().begin(), file->bytes().end()), contents);
}

TEST(MappedFileTest, AnEmptyFileIsAnEmptySpan) {
  const std::string path = TestDir() + "/empty";
  WriteAll(path, "");

  const StatusOr<MappedFile> file = MappedFile::Open(path);

  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->bytes().empty());
}

TEST(MappedFileTest, AMissingFileIsNotFoundAndAFolderUnavailable) {
  const std::string dir = TestDir();

  const Status missing = MappedFile::Open(dir + "/missing").status();
  const Status folder = MappedFile::Open(dir).status();

  EXPECT_EQ(missing.code(), Status::Code::kNotFound) << missing.ToString();
  EXPECT_NE(missing.message().find(dir + "/missing"), std::string::npos);
  EXPECT_EQ(folder.code(), Status::Code::kUnavailable) << folder.ToString();
  EXPECT_NE(folder.message().find(dir), std::string::npos);
}

// Files mapped are replaced by rename: the mapping keeps the old bytes,
// and a moved-from mapping is empty.
TEST(MappedFileTest, AMappingKeepsTheFileItMappedAfterAReplacement) {
  const std::string path = TestDir() + "/data.bin";
  WriteAll(path, "old bytes");
  StatusOr<MappedFile> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  ASSERT_TRUE(WriteFileAtomically(path, "new").ok());
  MappedFile moved = std::move(file).value();

  EXPECT_EQ(std::string(moved.bytes().begin(), moved.bytes().end()),
            "old bytes");
  EXPECT_EQ(ReadAll(path), "new");
  // ReadAt reads the mapped file too, not the one now at its path.
  std::array<uint8_t, 5> read{};
  ASSERT_TRUE(moved.ReadAt(4, read).ok());
  EXPECT_EQ(std::string(read.begin(), read.end()), "bytes");
}

TEST(MappedFileTest, ReadAtCopiesARangeAndRefusesOnePastTheEnd) {
  const std::string path = TestDir() + "/data.bin";
  WriteAll(path, "0123456789");
  const StatusOr<MappedFile> file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::array<uint8_t, 4> out{};

  ASSERT_TRUE(file->ReadAt(6, out).ok());
  EXPECT_EQ(std::string(out.begin(), out.end()), "6789");
  EXPECT_TRUE(file->ReadAt(0, std::span<uint8_t>()).ok());

  for (const uint64_t offset :
       {uint64_t{7}, uint64_t{11}, std::numeric_limits<uint64_t>::max()}) {
    const Status past = file->ReadAt(offset, out);
    EXPECT_EQ(past.code(), Status::Code::kDataLoss) << offset;
    EXPECT_NE(past.message().find(path), std::string::npos) << past.ToString();
  }
}

}  // namespace
}  // namespace anchorage::io
