#include "common/codec/topk_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>

#include "common/base/format.h"

namespace anchorage::codec {

static_assert(std::endian::native == std::endian::little,
              "the topk wire format is little-endian");

namespace {

constexpr size_t kMaxSamples = 16384;
constexpr size_t kChunk = 16;

// Whether Encode first guesses a lower bound for the threshold from a
// sample (see Encode): worth it when k is a small fraction of d.
bool UseSample(size_t size, size_t k) {
  return k * 64 <= size && size >= 4 * kMaxSamples;
}

// Returns a guessed lower bound for the k-th largest |g_i + r_i|: the
// magnitude at rank m + 4 sqrt(m) + 8, m = k S / d, of a strided sample of
// S = kMaxSamples coordinates (about 4 standard deviations above the
// expected rank of the k-th largest), which typically leaves 1.2k to 1.5k
// magnitudes at or above it. Uses scratch[0, S).
float GuessThreshold(const float* g, const float* r, size_t size, size_t k,
                     float* scratch) {
  const size_t stride = size / kMaxSamples;
  for (size_t s = 0; s < kMaxSamples; ++s) {
    scratch[s] = std::fabs(g[s * stride] + r[s * stride]);
  }
  const double expected =
      static_cast<double>(k) * kMaxSamples / static_cast<double>(size);
  const auto rank =
      std::min(kMaxSamples - 1,
               static_cast<size_t>(expected + 4 * std::sqrt(expected) + 8));
  std::nth_element(scratch, scratch + rank, scratch + kMaxSamples,
                   std::greater<float>());
  return scratch[rank];
}

// Sets v = g + r and returns nonzero if some v_i is not finite. When
// `guess` > 0, also appends each i with |v_i| >= guess, in order, to
// candidate_indices and its |v_i| to candidate_magnitudes, and sets *count.
// `hits` has size / kChunk bytes.
uint32_t Accumulate(const float* g, const float* r, size_t size, float guess,
                    float* v, uint8_t* hits, uint32_t* candidate_indices,
                    float* candidate_magnitudes, size_t* count) {
  constexpr float kMax = std::numeric_limits<float>::max();
  // Vectorised pass: v, the finiteness flag, and which 16-coordinate chunks
  // hold a candidate (with a good guess, most hold none).
  uint32_t non_finite = 0;
  const size_t chunks = size / kChunk;
  for (size_t c = 0; c < chunks; ++c) {
    uint32_t hit = 0;
    for (size_t i = c * kChunk; i < (c + 1) * kChunk; ++i) {
      v[i] = g[i] + r[i];
      const float magnitude = std::fabs(v[i]);
      // False for NaN as well as for infinities.
      non_finite |= magnitude <= kMax ? 0U : 1U;
      hit |= magnitude >= guess ? 1U : 0U;
    }
    hits[c] = static_cast<uint8_t>(hit);
  }
  for (size_t i = chunks * kChunk; i < size; ++i) {
    v[i] = g[i] + r[i];
    non_finite |= std::fabs(v[i]) <= kMax ? 0U : 1U;
  }
  if (guess <= 0) return non_finite;
  // Compaction of the chunks with a hit, branch-free within a chunk.
  size_t found = 0;
  for (size_t c = 0; c < chunks; ++c) {
    if (hits[c] == 0) continue;
    for (size_t i = c * kChunk; i < (c + 1) * kChunk; ++i) {
      const float magnitude = std::fabs(v[i]);
      candidate_indices[found] = static_cast<uint32_t>(i);
      candidate_magnitudes[found] = magnitude;
      found += magnitude >= guess ? 1 : 0;
    }
  }
  for (size_t i = chunks * kChunk; i < size; ++i) {
    const float magnitude = std::fabs(v[i]);
    candidate_indices[found] = static_cast<uint32_t>(i);
    candidate_magnitudes[found] = magnitude;
    found += magnitude >= guess ? 1 : 0;
  }
  *count = found;
  return non_finite;
}

// Returns the k-th largest of magnitudes[0, size) (reordering them) and
// sets *above to how many are strictly greater.
float KthLargest(float* magnitudes, size_t size, size_t k, size_t* above) {
  std::nth_element(magnitudes, magnitudes + (k - 1), magnitudes + size,
                   std::greater<float>());
  const float threshold = magnitudes[k - 1];
  // nth_element leaves everything greater in front of position k - 1.
  size_t greater = 0;
  for (size_t i = 0; i + 1 < k; ++i) {
    greater += magnitudes[i] > threshold;
  }
  *above = greater;
  return threshold;
}

// Writes an entry (i, v_i) at `entry` for each coordinate i, visited in
// increasing order, with |v_i| > threshold and for the first `ties` with
// |v_i| == threshold, and zeroes those v_i (which leaves the residual
// exactly). The coordinates visited are indices[0, count), or 0 .. count - 1
// when `indices` is null. Returns the end of the entries.
uint8_t* Send(float* v, const uint32_t* indices, size_t count, float threshold,
              size_t ties, uint8_t* entry) {
  for (size_t c = 0; c < count; ++c) {
    const size_t i = indices != nullptr ? indices[c] : c;
    const float magnitude = std::fabs(v[i]);
    if (magnitude < threshold) continue;
    if (magnitude == threshold) {
      if (ties == 0) continue;
      --ties;
    }
    const auto index = static_cast<uint32_t>(i);
    std::memcpy(entry, &index, 4);
    std::memcpy(entry + 4, &v[i], 4);
    entry += TopKCodec::kEntryBytes;
    v[i] = 0.0F;
  }
  return entry;
}

// Writes rho u + g to `next`; InvalidArgument naming the first value of g
// that is not finite, or else the first coordinate where the momentum
// overflows float32.
Status StepMomentum(float rho, std::span<const float> u,
                    std::span<const float> g, std::span<float> next) {
  uint32_t non_finite = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    next[i] = rho * u[i] + g[i];
    non_finite |=
        std::fabs(next[i]) <= std::numeric_limits<float>::max() ? 0U : 1U;
  }
  if (non_finite == 0) return Status::Ok();
  for (size_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(g[i])) {
      return Status::InvalidArgument("topk codec: value at coordinate " +
                                     std::to_string(i) + " is " +
                                     FormatValue(g[i]) + ", not finite");
    }
  }
  const auto bad = std::find_if(next.begin(), next.end(), [](float value) {
    return !std::isfinite(value);
  });
  return Status::InvalidArgument("topk codec: momentum at coordinate " +
                                 std::to_string(bad - next.begin()) +
                                 " overflows float32");
}

// Zeroes `values` at the indices of the entries [begin, end) of a message.
void ZeroSent(const uint8_t* begin, const uint8_t* end,
              std::span<float> values) {
  for (const uint8_t* entry = begin; entry != end;
       entry += TopKCodec::kEntryBytes) {
    uint32_t index = 0;
    std::memcpy(&index, entry, sizeof(index));
    values[index] = 0.0F;
  }
}

}  // namespace

int64_t TopKCodec::CoordinatesFor(int64_t dim, double fraction) {
  const auto k =
      static_cast<int64_t>(std::llround(fraction * static_cast<double>(dim)));
  return std::clamp<int64_t>(k, 1, dim);
}

TopKCodec::TopKCodec(int64_t dim, double fraction, double momentum)
    : dim_(dim),
      k_(CoordinatesFor(dim, fraction)),
      rho_(static_cast<float>(momentum)),
      residual_(static_cast<size_t>(dim), 0.0F),
      momentum_(momentum > 0 ? static_cast<size_t>(dim) : 0, 0.0F),
      next_momentum_(momentum_.size()),
      accumulated_(static_cast<size_t>(dim)),
      magnitudes_(static_cast<size_t>(dim)),
      candidates_(static_cast<size_t>(dim)),
      hits_(static_cast<size_t>(dim) / 16 + 1) {
  ANCHORAGE_CHECK(fraction > 0 && fraction <= 1, "topk fraction out of range");
  ANCHORAGE_CHECK(momentum >= 0 && momentum < 1, "topk momentum out of range");
  ANCHORAGE_CHECK(dim < (int64_t{1} << 32), "topk dim exceeds u32 indices");
}

Status TopKCodec::ValidateOptions(const CodecOptions& options) {
  const double fraction = options.topk_fraction;
  if (!(fraction > 0 && fraction <= 1)) {
    return Status::InvalidArgument("topk_fraction must be in (0, 1], got " +
                                   FormatValue(fraction));
  }
  const double momentum = options.sketch_momentum;
  if (!(momentum >= 0 && momentum < 1)) {
    return Status::InvalidArgument("sketch_momentum must be in [0, 1), got " +
                                   FormatValue(momentum));
  }
  return Status::Ok();
}

Status TopKCodec::Encode(std::span<const float> values,
                         std::vector<uint8_t>* out) {
  if (static_cast<int64_t>(values.size()) != dim_) {
    return Status::InvalidArgument(
        "topk codec: " + std::to_string(values.size()) + " values, expected " +
        std::to_string(dim_));
  }
  const size_t size = values.size();
  const auto k = static_cast<size_t>(k_);
  const float* g = values.data();
  if (rho_ > 0) {
    // The momentum rho u + g takes the input's place; u itself changes
    // only once the encode succeeds.
    Status status = StepMomentum(rho_, momentum_, values, next_momentum_);
    if (!status.ok()) return status;
    g = next_momentum_.data();
  }
  float* v = accumulated_.data();
  // The k-th largest |v_i| is the threshold. For small k a sampled guess
  // (a likely lower bound) picks candidates during the pass that forms v; if
  // at least k are >= the guess, the threshold is among them and only the
  // candidates are selected from and scanned. Otherwise (an unlucky sample,
  // or no sample) nth_element and the scan run over all d. Both are O(d).
  const float guess =
      UseSample(size, k)
          ? GuessThreshold(g, residual_.data(), size, k, magnitudes_.data())
          : 0.0F;
  size_t count = 0;
  const uint32_t non_finite =
      Accumulate(g, residual_.data(), size, guess, v, hits_.data(),
                 candidates_.data(), magnitudes_.data(), &count);
  if (non_finite != 0) {
    for (size_t i = 0; i < size; ++i) {
      if (std::isfinite(v[i])) continue;
      return Status::InvalidArgument(
          "topk codec: " +
          (std::isfinite(g[i])
               ? "value + residual at coordinate " + std::to_string(i) +
                     " overflows float32"
               : "value at coordinate " + std::to_string(i) + " is " +
                     FormatValue(g[i]) + ", not finite"));
    }
  }
  const bool from_candidates = guess > 0 && count >= k;
  if (!from_candidates) {
    count = size;
    for (size_t i = 0; i < size; ++i) {
      magnitudes_[i] = std::fabs(v[i]);
    }
  }
  size_t above = 0;
  const float threshold = KthLargest(magnitudes_.data(), count, k, &above);

  out->resize(kHeaderBytes + kEntryBytes * k);
  uint8_t* bytes = out->data();
  bytes[0] = kMagic;
  const uint64_t dim64 = size;
  const auto k32 = static_cast<uint32_t>(k);
  std::memcpy(bytes + 1, &dim64, sizeof(dim64));
  std::memcpy(bytes + 9, &k32, sizeof(k32));
  // v becomes the residual, less what is sent.
  residual_.swap(accumulated_);
  const uint8_t* entry =
      Send(residual_.data(), from_candidates ? candidates_.data() : nullptr,
           count, threshold, k - above, bytes + kHeaderBytes);
  ANCHORAGE_CHECK(entry == bytes + out->size(), "topk sent != k");
  if (rho_ > 0) {
    // Momentum stopping at the sent coordinates.
    momentum_.swap(next_momentum_);
    ZeroSent(bytes + kHeaderBytes, entry, momentum_);
  }
  return Status::Ok();
}

Status TopKCodec::Decode(std::span<const uint8_t> bytes,
                         std::span<float> out) const {
  if (static_cast<int64_t>(out.size()) != dim_) {
    return Status::InvalidArgument("topk codec: output has " +
                                   std::to_string(out.size()) +
                                   " floats, expected " + std::to_string(dim_));
  }
  if (bytes.size() < kHeaderBytes) {
    return Status::DataLoss("topk payload has " + std::to_string(bytes.size()) +
                            " bytes, shorter than the " +
                            std::to_string(kHeaderBytes) + "-byte header");
  }
  if (bytes[0] != kMagic) {
    return Status::DataLoss("topk header has magic byte " +
                            std::to_string(bytes[0]) + ", expected " +
                            std::to_string(kMagic));
  }
  uint64_t dim = 0;
  uint32_t k = 0;
  std::memcpy(&dim, bytes.data() + 1, sizeof(dim));
  std::memcpy(&k, bytes.data() + 9, sizeof(k));
  if (dim != out.size()) {
    return Status::DataLoss("topk header has dimension " + std::to_string(dim) +
                            ", expected " + std::to_string(out.size()));
  }
  if (k > dim) {
    return Status::DataLoss("topk header has k = " + std::to_string(k) +
                            ", more than the dimension " + std::to_string(dim));
  }
  const size_t expected = kHeaderBytes + kEntryBytes * size_t{k};
  if (bytes.size() != expected) {
    return Status::DataLoss(
        "topk payload has " + std::to_string(bytes.size()) +
        " bytes, expected " + std::to_string(expected) + " (" +
        (bytes.size() < expected ? "truncated" : "oversized") + "; " +
        std::to_string(kHeaderBytes) + "-byte header + " + std::to_string(k) +
        " entries of " + std::to_string(kEntryBytes) + " bytes)");
  }
  std::fill(out.begin(), out.end(), 0.0F);
  const uint8_t* entry = bytes.data() + kHeaderBytes;
  int64_t previous = -1;
  for (uint32_t j = 0; j < k; ++j, entry += kEntryBytes) {
    uint32_t index = 0;
    float value = 0;
    std::memcpy(&index, entry, 4);
    std::memcpy(&value, entry + 4, 4);
    if (index >= dim) {
      return Status::DataLoss("topk entry " + std::to_string(j) +
                              " has index " + std::to_string(index) +
                              ", out of range for dimension " +
                              std::to_string(dim));
    }
    if (static_cast<int64_t>(index) <= previous) {
      return Status::DataLoss(
          "topk entry " + std::to_string(j) + " has index " +
          std::to_string(index) +
          (static_cast<int64_t>(index) == previous ? ", a duplicate of"
                                                   : ", unsorted: not above") +
          " the previous index " + std::to_string(previous));
    }
    if (!std::isfinite(value)) {
      return Status::DataLoss("topk entry " + std::to_string(j) + " (index " +
                              std::to_string(index) + ") has value " +
                              FormatValue(value) + ", not finite");
    }
    out[index] = value;
    previous = index;
  }
  return Status::Ok();
}

}  // namespace anchorage::codec
