// A misbehaving or hostile peer on a raw DEALER: sends hand-built messages
// of every kind, with any worker id, incarnation, round or report, and
// reads what comes back. Every wait has a 10 s deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/transport/curve.h"
#include "common/transport/wire.h"

namespace anchorage::testing {

// What a hand-built push claims.
struct RawPushFields {
  uint64_t base_version = 0;
  uint64_t round = 0;
  uint64_t samples = 16;
  uint64_t local_steps = 1;
};

class RawPeer {
 public:
  // `identity` empty: a fresh random routing id, as real workers use.
  // With `curve`, the peer authenticates with those keys.
  RawPeer(const std::string& endpoint, const std::string& identity,
          const transport::CurveClientKeys* curve = nullptr);

  // Sends `frames`; false when the send did not go out at once.
  bool Send(std::vector<zmq::message_t> frames);
  void SendJoin(uint32_t id, uint64_t dim, const std::string& algorithm,
                const std::string& codec = "dense",
                const std::string& codec_settings = "",
                uint64_t incarnation = 1);
  void SendPush(uint32_t id, std::vector<float> values, uint8_t payloads = 1);
  void SendEncodedPush(uint32_t id, const std::string& codec,
                       const RawPushFields& fields,
                       const std::vector<uint8_t>& bytes, uint8_t payloads = 1);
  void SendValues(uint32_t id, uint64_t round, std::vector<uint8_t> bytes);

  // Waits for the next message of kind `kind`, skipping heartbeats; a
  // gtest failure and nullopt for another kind or none in 10 s.
  std::optional<transport::Message> Expect(proto::Body kind);
  proto::ErrorCode ExpectError();
  // True when nothing at all arrives within `wait`.
  bool HearsNothingFor(std::chrono::milliseconds wait);

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
};

}  // namespace anchorage::testing
