// Every codec's Decode and the round protocols (MessageNorm, AddMessage,
// AddValues) on hostile bytes. The first byte picks the codec, by its place
// in the registry (codec::CodecNames()).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/codec/codec.h"
#include "common/codec/round_protocol.h"

namespace {

constexpr int64_t kDim = 512;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anchorage;
  if (size == 0) return 0;
  codec::CodecOptions options;
  options.topk_fraction = 0.05;
  options.sketch_seed = 7;
  options.qsgd_bucket = 64;  // eight buckets of norms to corrupt
  // The registry's order, as fuzz_corpus.cc writes the first byte.
  static const std::vector<std::string_view> kNames = codec::CodecNames();
  static std::vector<std::unique_ptr<codec::Codec>> codecs(kNames.size());
  const size_t which = data[0] % kNames.size();
  std::unique_ptr<codec::Codec>& codec = codecs[which];
  if (codec == nullptr) {
    codec = codec::MakeCodec(kNames[which], kDim, options).value();
  }
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
