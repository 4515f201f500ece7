// How far one contribution may move the anchor (DESIGN.md section 10).
// A contribution's norm (its update ‖x − z_base‖, a gradient's norm, or a
// sketch's estimate of it) is refused when it exceeds an absolute bound or
// `factor` times the median of the last kWindow accepted norms. The
// adaptive bound starts once kWarmup norms were accepted; before that only
// the absolute bound applies, so a run on an untrusted network should set
// one (plaintext mode trusts the network anyway). The adaptive bound keeps
// norms per unit learning rate: a contribution made at rate γ is held to
// factor × γ × the median of the recent norms per unit rate, so workers at
// different points of a decayed schedule (a straggler that has not reached
// a decay its peers have) meet one bound. The absolute bound is in the
// norm's own units.
//
// The window restarts (the warm-up again) when more than half of the
// sources have been refused by it since the last acceptance, each by less
// than `factor` times the limit: then the norms have moved, not the
// workers (a pulled model's drift does not shrink with a decayed rate),
// and a window only acceptances refresh would refuse every push from then
// on. A minority of hostile sources cannot bring that about, nor can
// pushes far beyond the bound (a majority of hostile workers owns the
// anchor anyway: it is their mean).
//
// Part of the round state: Save/Load carry the recent norms and the
// sources refused since the last acceptance. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/bytes.h"

namespace anchorage::algo {

struct BoundOptions {
  double max_norm = 0;  // absolute bound (0 = none)
  double factor = 10;   // times the recent median (0 = no adaptive bound)
};

class ContributionBound {
 public:
  static constexpr size_t kWindow = 64;
  static constexpr size_t kWarmup = 3;
  // Bounds the refused sources a saved state may list.
  static constexpr uint64_t kMaxSources = uint64_t{1} << 24;

  explicit ContributionBound(const BoundOptions& options) : options_(options) {}

  // The largest norm accepted now from a contribution made at learning
  // rate `rate` (> 0; infinity when nothing bounds it).
  double Limit(double rate = 1.0) const;
  // Why `norm` (finite, >= 0), made at `rate`, is refused, or empty when it
  // is accepted.
  std::string Check(double norm, double rate = 1.0) const;
  // Records an accepted norm made at `rate` (zero norms are not recorded).
  void Accept(double norm, double rate = 1.0);
  // Records that `source`, one of `sources`, had `norm` (made at `rate`)
  // refused; restarts the window as above.
  void Refuse(uint32_t source, int sources, double norm, double rate = 1.0);

  void Save(ByteWriter* out) const;
  // DataLoss through `in` for more than kWindow norms or a bad one.
  void Load(ByteReader* in);

 private:
  BoundOptions options_;
  std::vector<double> recent_;  // a ring of the last kWindow norms
  size_t next_ = 0;
  std::vector<uint32_t> refused_;  // sources refused since an acceptance
};

}  // namespace anchorage::algo
