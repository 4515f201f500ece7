#include "common/codec/codec.h"

#include <functional>
#include <string>

#include "common/codec/bf16_codec.h"
#include "common/codec/dense_codec.h"
#include "common/codec/dqsgd_codec.h"
#include "common/codec/fp16_codec.h"
#include "common/codec/global_topk_codec.h"
#include "common/codec/qsgd_codec.h"
#include "common/codec/quantize.h"
#include "common/codec/sketch_codec.h"
#include "common/codec/topk_codec.h"

namespace anchorage::codec {
namespace {

using Options = const CodecOptions&;

Status NoOptions(Options) {
  return Status::Ok();
}

Status ValidateQsgdOptions(Options options) {
  if (options.bits < kMinQuantizedBits || options.bits > kMaxQuantizedBits) {
    return Status::InvalidArgument(
        "bits must be in [" + std::to_string(kMinQuantizedBits) + ", " +
        std::to_string(kMaxQuantizedBits) + "] for qsgd, got " +
        std::to_string(options.bits));
  }
  if (options.qsgd_bucket < 0) {
    return Status::InvalidArgument(
        "qsgd_bucket must be >= 0 (0 = one bucket), got " +
        std::to_string(options.qsgd_bucket));
  }
  return Status::Ok();
}

// The count sketch of the sketched codecs; 0 columns means
// sketch_columns_per_k times k, and 0 of those 10 for sketch and 40 for
// fetchsgd, which has no second round to correct its estimates and loses
// accuracy on narrower sketches.
SketchShape ShapeOf(int64_t dim, Options o, int64_t default_columns_per_k) {
  const int64_t k = TopKCodec::CoordinatesFor(dim, o.topk_fraction);
  const int64_t per_k = o.sketch_columns_per_k > 0 ? o.sketch_columns_per_k
                                                   : default_columns_per_k;
  return {.rows = o.sketch_rows,
          .columns = o.sketch_columns > 0 ? o.sketch_columns : per_k * k,
          .dim = dim,
          .seed = o.sketch_seed};
}

// The options-only checks of the sketched codecs (k and rho as topk's,
// then the sketch); the shape is checked again against the dimension when
// the codec is made.
Status ValidateSketchOptions(Options options) {
  Status status = TopKCodec::ValidateOptions(options);
  if (!status.ok()) return status;
  if (options.sketch_rows < 1 || options.sketch_rows > 15) {
    return Status::InvalidArgument("sketch_rows must be in [1, 15], got " +
                                   std::to_string(options.sketch_rows));
  }
  if (options.sketch_columns < 0) {
    return Status::InvalidArgument(
        "sketch_columns must be >= 0 (0 = the codec's default), got " +
        std::to_string(options.sketch_columns));
  }
  if (options.sketch_columns_per_k < 0 ||
      options.sketch_columns_per_k > (int64_t{1} << 31)) {
    return Status::InvalidArgument(
        "sketch_columns_per_k must be in [0, 2^31] (0 = the codec's "
        "default), got " +
        std::to_string(options.sketch_columns_per_k));
  }
  if (options.sketch_candidates < 1) {
    return Status::InvalidArgument("sketch_candidates must be >= 1, got " +
                                   std::to_string(options.sketch_candidates));
  }
  return Status::Ok();
}

struct Entry {
  std::string_view name;
  // Whether the codec's messages are decided on the whole round.
  bool round_level;
  // Checks the options fields this codec reads.
  std::function<Status(Options)> validate;
  // Checks what depends on the dimension too (nullptr: nothing does).
  std::function<Status(int64_t dim, Options)> validate_for_dim;
  // Called only with a dim > 0 and options that passed `validate`.
  std::function<std::unique_ptr<Codec>(int64_t dim, Options)> make;
};

// The registry: adding a codec is its file plus one line here.
const Entry kCodecs[] = {
    {"dense", false, NoOptions, nullptr,
     [](int64_t dim, Options) { return std::make_unique<DenseCodec>(dim); }},
    {"fp16", false, NoOptions, nullptr,
     [](int64_t dim, Options) { return std::make_unique<Fp16Codec>(dim); }},
    {"bf16", false, NoOptions, nullptr,
     [](int64_t dim, Options) { return std::make_unique<Bf16Codec>(dim); }},
    {"qsgd", false, ValidateQsgdOptions, nullptr,
     [](int64_t dim, Options o) {
       return std::make_unique<QsgdCodec>(dim, o.bits, o.qsgd_bucket, o.seed);
     }},
    {"dqsgd", false, DqsgdCodec::ValidateOptions, nullptr,
     [](int64_t dim, Options o) {
       return std::make_unique<DqsgdCodec>(dim, o);
     }},
    {"topk", false, TopKCodec::ValidateOptions, nullptr,
     [](int64_t dim, Options o) {
       return std::make_unique<TopKCodec>(dim, o.topk_fraction,
                                          o.sketch_momentum);
     }},
    {"sketch", true, ValidateSketchOptions,
     [](int64_t dim, Options o) {
       return CountSketch::ValidateShape(ShapeOf(dim, o, 10));
     },
     [](int64_t dim, Options o) {
       return std::make_unique<SketchCodec>(
           ShapeOf(dim, o, 10), TopKCodec::CoordinatesFor(dim, o.topk_fraction),
           o.sketch_candidates, o.sketch_momentum);
     }},
    {"fetchsgd", true, ValidateSketchOptions,
     [](int64_t dim, Options o) {
       return CountSketch::ValidateShape(ShapeOf(dim, o, 40));
     },
     [](int64_t dim, Options o) {
       return std::make_unique<FetchSgdCodec>(
           ShapeOf(dim, o, 40), TopKCodec::CoordinatesFor(dim, o.topk_fraction),
           o.sketch_momentum);
     }},
    {"global-topk", true, TopKCodec::ValidateOptions,
     [](int64_t dim, Options o) {
       return GlobalTopKCodec::ValidateParams(
           dim, TopKCodec::CoordinatesFor(dim, o.topk_fraction),
           o.sketch_momentum);
     },
     [](int64_t dim, Options o) {
       return std::make_unique<GlobalTopKCodec>(
           dim, TopKCodec::CoordinatesFor(dim, o.topk_fraction),
           o.sketch_momentum);
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

Status Codec::ExactValues(std::span<const uint32_t> /*indices*/,
                          std::span<float> /*out*/) const {
  return Status::FailedPrecondition("codec " + std::string(name()) +
                                    " has no second round to answer");
}

SketchShape SketchShapeFor(std::string_view name, int64_t dim,
                           const CodecOptions& options) {
  return ShapeOf(dim, options, name == "fetchsgd" ? 40 : 10);
}

std::vector<std::string_view> CodecNames() {
  std::vector<std::string_view> names;
  for (const Entry& entry : kCodecs) {
    names.push_back(entry.name);
  }
  return names;
}

bool DecidesOnTheRound(std::string_view name) {
  const Entry* entry = Find(name);
  return entry != nullptr && entry->round_level;
}

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
  if (status.ok() && entry->validate_for_dim != nullptr) {
    status = entry->validate_for_dim(dim, options);
    if (!status.ok()) {
      status = Status::InvalidArgument("codec " + std::string(name) + ": " +
                                       status.message());
    }
  }
  if (!status.ok()) return status;
  return entry->make(dim, options);
}

}  // namespace anchorage::codec
