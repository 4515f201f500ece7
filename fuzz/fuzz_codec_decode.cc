// Every codec's Decode and the sketches' round protocol (MessageNorm,
// AddMessage, AddValues) on hostile bytes. The first byte picks the codec.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/codec/codec.h"
#include "common/codec/round_protocol.h"

namespace {

constexpr int64_t kDim = 512;
const char* const kCodecs[] = {"dense", "fp16", "bf16",   "qsgd",
                               "dqsgd", "topk", "sketch", "fetchsgd"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anchorage;
  if (size == 0) return 0;
  codec::CodecOptions options;
  options.topk_fraction = 0.05;
  options.sketch_seed = 7;
  options.qsgd_bucket = 64;  // eight buckets of norms to corrupt
  const std::string name = kCodecs[data[0] % 8];
  static std::unique_ptr<codec::Codec> codecs[8];
  std::unique_ptr<codec::Codec>& codec = codecs[data[0] % 8];
  if (codec == nullptr) codec = codec::MakeCodec(name, kDim, options).value();
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  std::vector<float> out(kDim);
  (void)codec->Decode(bytes, out);
  if (std::unique_ptr<codec::RoundProtocol> round = codec->NewRoundProtocol()) {
    (void)round->MessageNorm(bytes);
    (void)round->AddMessage(bytes);
    if (round->asks_values()) {
      (void)round->Candidates();
      (void)round->AddValues(bytes);
    }
    std::vector<uint32_t> indices;
    std::vector<float> values;
    round->Finish(codec::RoundScale{}, &indices, &values);
  }
  return 0;
}
