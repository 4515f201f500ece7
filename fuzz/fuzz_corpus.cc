// Writes the fuzzers' seed corpus into DIR/<target>/: the messages a real
// worker sends (built by the transport's builders, payloads encoded by the
// real codecs), each codec's encoding of a model update, and a checkpoint of
// a round core that has joined workers and taken pushes.
//   fuzz_corpus DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"
#include "common/io/checkpoint.h"
#include "common/transport/protocol.h"

namespace {

using namespace anchorage;

void Write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

// The layout fuzz_input.h splits.
std::vector<uint8_t> Joined(const transport::Frames& frames) {
  std::vector<uint8_t> out = {static_cast<uint8_t>(frames.size() - 1)};
  for (size_t n = 0; n < frames.size(); ++n) {
    const auto* data = frames[n].data<uint8_t>();
    if (n + 1 < frames.size()) {
      const auto length = static_cast<uint16_t>(frames[n].size());
      out.push_back(static_cast<uint8_t>(length & 0xff));
      out.push_back(static_cast<uint8_t>(length >> 8));
    }
    out.insert(out.end(), data, data + frames[n].size());
  }
  return out;
}

std::vector<float> Update(int64_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0F, 0.01F);
  std::vector<float> values(static_cast<size_t>(dim));
  for (float& value : values) {
    value = noise(rng);
  }
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (const char* target : {"envelope", "codec_decode", "checkpoint"}) {
    std::filesystem::create_directories(dir + "/" + target);
  }
  // Messages, small enough for the envelope fuzzer's u16 frame lengths.
  constexpr int64_t kMessageDim = 200;
  transport::EnvelopeBuilder builder;
  std::unique_ptr<codec::Codec> dense =
      codec::MakeCodec("dense", kMessageDim, {}).value();
  std::vector<uint8_t> payload;
  (void)dense->Encode(Update(kMessageDim, 1), &payload);
  std::vector<transport::Frames> messages;
  messages.push_back(transport::MakeJoin(builder,
                                         {.worker = 1,
                                          .incarnation = 7,
                                          .model_dim = kMessageDim,
                                          .algorithm = "overlap-local-sgd",
                                          .codec = "dense"},
                                         100));
  messages.push_back(
      transport::MakePush(builder,
                          {.worker = 1,
                           .round = 3,
                           .base_version = 2,
                           .codec = "dense",
                           .report = {.samples = 128, .local_steps = 4}},
                          payload));
  messages.push_back(
      transport::MakeValues(builder, 1, 3, std::vector<uint8_t>(40, 0)));
  messages.push_back(transport::MakeLeave(builder, 1, "stopped"));
  messages.push_back(transport::MakeHeartbeat(builder, 1));
  messages.push_back(transport::MakePushAsk(builder, 1, 3));
  messages.push_back(
      transport::MakeError(builder, 1, algo::Refusal::kBadMessage, "no"));

  for (size_t n = 0; n < messages.size(); ++n) {
    Write(dir + "/envelope/message-" + std::to_string(n), Joined(messages[n]));
  }
  // Each codec's message, as the codec fuzzer's first byte selects it.
  constexpr int64_t kDim = 512;
  const std::vector<std::string_view> codecs = codec::CodecNames();
  codec::CodecOptions options;
  options.topk_fraction = 0.05;
  options.sketch_seed = 7;
  options.qsgd_bucket = 64;  // as fuzz_codec_decode.cc: eight buckets
  for (size_t c = 0; c < codecs.size(); ++c) {
    std::unique_ptr<codec::Codec> codec =
        codec::MakeCodec(codecs[c], kDim, options).value();
    std::vector<uint8_t> bytes = {static_cast<uint8_t>(c)};
    std::vector<uint8_t> encoded;
    (void)codec->Encode(Update(kDim, static_cast<unsigned>(c)), &encoded);
    bytes.insert(bytes.end(), encoded.begin(), encoded.end());
    Write(dir + "/codec_decode/" + std::string(codecs[c]), bytes);
  }
  // A checkpoint as the server writes one, around a state of 64 floats.
  const std::vector<float> anchor = Update(64, 9);
  const auto* raw = reinterpret_cast<const uint8_t*>(anchor.data());
  const io::Checkpoint checkpoint{
      .version = 12,
      .run_id = 42,
      .restarts = 1,
      .evaluations = {1.5, 12, 0.8, 0.4},
      .fingerprint = {{"--algorithm", "local-sgd"}, {"--workers", "4"}},
      .state = std::vector<uint8_t>(raw, raw + anchor.size() * sizeof(float))};
  Write(dir + "/checkpoint/checkpoint", io::EncodeCheckpoint(checkpoint));
  std::printf("seed corpus written to %s\n", dir.c_str());
  return 0;
}
