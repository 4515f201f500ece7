#include "common/codec/codec.h"

#include <functional>
#include <string>

#include "common/codec/dense_codec.h"

namespace anchorage::codec {
namespace {

struct Entry {
  std::string_view name;
  std::function<std::unique_ptr<Codec>(int64_t dim)> make;
};

// The registry: adding a codec is its file plus one line here.
const Entry kCodecs[] = {
    {"dense", [](int64_t dim) { return std::make_unique<DenseCodec>(dim); }},
};

std::string KnownNames() {
  std::string names;
  for (const Entry& entry : kCodecs) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

}  // namespace

Status ValidateCodecName(std::string_view name) {
  for (const Entry& entry : kCodecs) {
    if (entry.name == name) return Status::Ok();
  }
  return Status::InvalidArgument("unknown codec '" + std::string(name) +
                                 "' (known: " + KnownNames() + ")");
}

StatusOr<std::unique_ptr<Codec>> MakeCodec(std::string_view name,
                                           int64_t dim) {
  if (dim <= 0) {
    return Status::InvalidArgument("codec dimension must be > 0, got " +
                                   std::to_string(dim));
  }
  for (const Entry& entry : kCodecs) {
    if (entry.name == name) return entry.make(dim);
  }
  return ValidateCodecName(name);
}

}  // namespace anchorage::codec
