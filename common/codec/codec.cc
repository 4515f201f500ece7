#include "common/codec/codec.h"

#include <functional>
#include <string>

#include "common/codec/bf16_codec.h"
#include "common/codec/dense_codec.h"
#include "common/codec/dqsgd_codec.h"
#include "common/codec/fp16_codec.h"
#include "common/codec/qsgd_codec.h"
#include "common/codec/quantize.h"
#include "common/codec/topk_codec.h"

namespace anchorage::codec {
namespace {

using Options = const CodecOptions&;

Status NoOptions(Options) {
  return Status::Ok();
}

Status ValidateQsgdOptions(Options options) {
  if (options.bits >= kMinQuantizedBits && options.bits <= kMaxQuantizedBits) {
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "bits must be in [" + std::to_string(kMinQuantizedBits) + ", " +
      std::to_string(kMaxQuantizedBits) + "] for qsgd, got " +
      std::to_string(options.bits));
}

struct Entry {
  std::string_view name;
  // Checks the options fields this codec reads.
  std::function<Status(Options)> validate;
  // Called only with a dim > 0 and options that passed `validate`.
  std::function<std::unique_ptr<Codec>(int64_t dim, Options)> make;
};

// The registry: adding a codec is its file plus one line here.
const Entry kCodecs[] = {
    {"dense", NoOptions,
     [](int64_t dim, Options) { return std::make_unique<DenseCodec>(dim); }},
    {"fp16", NoOptions,
     [](int64_t dim, Options) { return std::make_unique<Fp16Codec>(dim); }},
    {"bf16", NoOptions,
     [](int64_t dim, Options) { return std::make_unique<Bf16Codec>(dim); }},
    {"qsgd", ValidateQsgdOptions,
     [](int64_t dim, Options o) {
       return std::make_unique<QsgdCodec>(dim, o.bits, o.seed);
     }},
    {"dqsgd", DqsgdCodec::ValidateOptions,
     [](int64_t dim, Options o) {
       return std::make_unique<DqsgdCodec>(dim, o);
     }},
    {"topk", TopKCodec::ValidateOptions,
     [](int64_t dim, Options o) {
       return std::make_unique<TopKCodec>(dim, o.topk_fraction);
     }},
};

std::string KnownNames() {
  std::string names;
  for (const Entry& entry : kCodecs) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

const Entry* Find(std::string_view name) {
  for (const Entry& entry : kCodecs) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace

Status ValidateCodecName(std::string_view name) {
  if (Find(name) != nullptr) return Status::Ok();
  return Status::InvalidArgument("unknown codec '" + std::string(name) +
                                 "' (known: " + KnownNames() + ")");
}

Status ValidateCodecOptions(std::string_view name,
                            const CodecOptions& options) {
  const Entry* entry = Find(name);
  if (entry == nullptr) return ValidateCodecName(name);
  Status status = entry->validate(options);
  if (!status.ok()) {
    return Status::InvalidArgument("codec " + std::string(name) + ": " +
                                   status.message());
  }
  return status;
}

StatusOr<std::unique_ptr<Codec>> MakeCodec(std::string_view name, int64_t dim,
                                           const CodecOptions& options) {
  if (dim <= 0) {
    return Status::InvalidArgument("codec dimension must be > 0, got " +
                                   std::to_string(dim));
  }
  const Entry* entry = Find(name);
  if (entry == nullptr) return ValidateCodecName(name);
  Status status = ValidateCodecOptions(name, options);
  if (!status.ok()) return status;
  return entry->make(dim, options);
}

}  // namespace anchorage::codec
