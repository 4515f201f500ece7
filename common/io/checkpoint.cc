#include "common/io/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>

#include "common/base/bytes.h"

namespace anchorage::io {
namespace {

constexpr char kMagic[8] = {'A', 'N', 'C', 'H', 'C', 'K', 'P', 'T'};
constexpr uint32_t kFormat = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 + 8;
constexpr size_t kChecksumBytes = 4;
constexpr char kPrefix[] = "checkpoint-";
constexpr char kSuffix[] = ".anck";
constexpr size_t kSequenceDigits = 20;
constexpr int kKept = 2;

uint32_t Crc32(std::span<const uint8_t> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length: feed large inputs in pieces.
  while (!bytes.empty()) {
    const size_t piece =
        std::min<size_t>(bytes.size(), std::numeric_limits<uInt>::max());
    crc = crc32(crc, bytes.data(), static_cast<uInt>(piece));
    bytes = bytes.subspan(piece);
  }
  return static_cast<uint32_t>(crc);
}

// The sequence number of a checkpoint file name; nullopt for other names.
std::optional<uint64_t> SequenceOf(const std::string& name) {
  const size_t prefix = sizeof(kPrefix) - 1;
  const size_t suffix = sizeof(kSuffix) - 1;
  if (name.size() != prefix + kSequenceDigits + suffix ||
      name.compare(0, prefix, kPrefix) != 0 ||
      name.compare(name.size() - suffix, suffix, kSuffix) != 0) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  for (size_t i = prefix; i < prefix + kSequenceDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    sequence = sequence * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return sequence;
}

std::string NameOf(uint64_t sequence) {
  std::string digits = std::to_string(sequence);
  digits.insert(0, kSequenceDigits - digits.size(), '0');
  return kPrefix + digits + kSuffix;
}

// Checkpoint files in `dir` by sequence, newest first.
std::vector<std::pair<uint64_t, std::string>> ListCheckpoints(
    const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (std::optional<uint64_t> sequence = SequenceOf(name)) {
      files.emplace_back(*sequence, entry.path().string());
    }
  }
  std::sort(files.rbegin(), files.rend());
  return files;
}

// Removes what a writer that crashed mid-write left (".checkpoint-*").
void RemoveTemporaries(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(std::string(".") + kPrefix, 0) == 0) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

}  // namespace

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& checkpoint) {
  // One buffer of about the file's size, so the state is copied once; the
  // body's length goes in once the body is written.
  ByteWriter file;
  file.Reserve(kHeaderBytes + checkpoint.state.size() +
               checkpoint.evaluations.size() * sizeof(double) + (1 << 16));
  for (const char c : kMagic) {
    file.U8(static_cast<uint8_t>(c));
  }
  file.U32(kFormat);
  file.U64(0);  // the body's length, below
  file.U64(checkpoint.version);
  file.U64(checkpoint.run_id);
  file.I64(checkpoint.restarts);
  file.F64(checkpoint.clock_seconds);
  file.I64(checkpoint.bytes_up);
  file.I64(checkpoint.bytes_down);
  file.I64(checkpoint.rejected_messages);
  file.Doubles(checkpoint.evaluations);
  file.U64(checkpoint.fingerprint.size());
  for (const auto& [key, value] : checkpoint.fingerprint) {
    file.String(key);
    file.String(value);
  }
  file.U8s(checkpoint.state);
  std::vector<uint8_t> bytes = file.Take();
  const uint64_t body_size = bytes.size() - kHeaderBytes;
  std::memcpy(bytes.data() + kHeaderBytes - sizeof(body_size), &body_size,
              sizeof(body_size));
  const uint32_t crc = Crc32(bytes);
  const auto* crc_bytes = reinterpret_cast<const uint8_t*>(&crc);
  bytes.insert(bytes.end(), crc_bytes, crc_bytes + sizeof(crc));
  return bytes;
}

StatusOr<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> bytes,
                                      const std::string& name) {
  const auto refuse = [&name](const std::string& problem) {
    return Status::DataLoss(name + ": " + problem);
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return refuse("not an Anchorage checkpoint (bad magic or too short)");
  }
  ByteReader header(bytes.subspan(sizeof(kMagic), 12));
  const uint32_t format = header.U32();
  const uint64_t body_size = header.U64();
  if (format != kFormat) {
    return refuse("checkpoint format " + std::to_string(format) +
                  ", this build reads " + std::to_string(kFormat));
  }
  if (body_size != bytes.size() - kHeaderBytes - kChecksumBytes) {
    return refuse("truncated: the header announces " +
                  std::to_string(body_size) + " bytes of state, the file has " +
                  std::to_string(bytes.size() - kHeaderBytes - kChecksumBytes));
  }
  uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - kChecksumBytes,
              sizeof(stored));
  if (Crc32(bytes.first(bytes.size() - kChecksumBytes)) != stored) {
    return refuse("checksum mismatch (the file is corrupt)");
  }
  ByteReader body(bytes.subspan(kHeaderBytes, body_size));
  Checkpoint checkpoint;
  checkpoint.version = body.U64();
  checkpoint.run_id = body.U64();
  checkpoint.restarts = body.I64();
  checkpoint.clock_seconds = body.F64();
  checkpoint.bytes_up = body.I64();
  checkpoint.bytes_down = body.I64();
  checkpoint.rejected_messages = body.I64();
  body.Doubles(&checkpoint.evaluations, body_size / sizeof(double));
  if (checkpoint.evaluations.size() % 4 != 0) {
    body.Fail("evaluations not in fours");
  }
  const uint64_t keys = body.U64();
  if (keys > 4096) {
    body.Fail("a fingerprint of " + std::to_string(keys) + " keys");
  }
  for (uint64_t i = 0; i < keys && body.ok(); ++i) {
    std::string key = body.String();
    checkpoint.fingerprint[key] = body.String();
  }
  body.U8s(&checkpoint.state, body_size);
  if (Status status = body.Finish(); !status.ok()) {
    return refuse(status.message());
  }
  return checkpoint;
}

StatusOr<std::string> WriteCheckpoint(const std::string& dir,
                                      const Checkpoint& checkpoint,
                                      const WriteHooks& hooks) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::Unavailable("cannot create checkpoint directory " + dir +
                               ": " + error.message());
  }
  const std::vector<std::pair<uint64_t, std::string>> existing =
      ListCheckpoints(dir);
  const uint64_t sequence = existing.empty() ? 1 : existing.front().first + 1;
  const std::string path = dir + "/" + NameOf(sequence);
  const std::vector<uint8_t> bytes = EncodeCheckpoint(checkpoint);
  Status status = WriteFileAtomically(
      path,
      std::string_view(reinterpret_cast<const char*>(bytes.data()),
                       bytes.size()),
      hooks);
  if (!status.ok()) return status;
  // The new file and the newest before it stay.
  for (size_t i = kKept - 1; i < existing.size(); ++i) {
    std::filesystem::remove(existing[i].second, error);
  }
  RemoveTemporaries(dir);
  return path;
}

StatusOr<std::optional<LoadedCheckpoint>> LoadNewestCheckpoint(
    const std::string& dir,
    const std::function<Status(const Checkpoint&, const std::string& path)>&
        accept,
    std::vector<std::string>* refused) {
  for (const auto& [sequence, path] : ListCheckpoints(dir)) {
    // A file that cannot be read is refused like a corrupt one.
    const StatusOr<std::string> bytes = ReadFile(path);
    StatusOr<Checkpoint> checkpoint =
        bytes.ok()
            ? DecodeCheckpoint(
                  std::span(reinterpret_cast<const uint8_t*>(bytes->data()),
                            bytes->size()),
                  path)
            : Status::DataLoss(bytes.status().message());
    Status status =
        checkpoint.ok() ? accept(*checkpoint, path) : checkpoint.status();
    if (status.ok()) {
      return std::optional<LoadedCheckpoint>(
          LoadedCheckpoint{std::move(checkpoint).value(), path});
    }
    if (status.code() != Status::Code::kDataLoss) return status;
    refused->push_back(status.message());
  }
  return std::optional<LoadedCheckpoint>();
}

std::string FingerprintDifference(const Fingerprint& saved,
                                  const Fingerprint& current) {
  std::set<std::string> keys;
  for (const Fingerprint* side : {&saved, &current}) {
    for (const auto& entry : *side) {
      keys.insert(entry.first);
    }
  }
  const auto value = [](const Fingerprint& side, const std::string& key) {
    const auto it = side.find(key);
    return it == side.end() ? std::optional<std::string>() : it->second;
  };
  std::string difference;
  for (const std::string& key : keys) {
    const std::optional<std::string> there = value(saved, key);
    const std::optional<std::string> here = value(current, key);
    if (there == here) continue;
    if (!difference.empty()) difference += "; ";
    difference += key + " is " + there.value_or("unset") + " there, " +
                  here.value_or("unset") + " here";
  }
  return difference;
}

}  // namespace anchorage::io
