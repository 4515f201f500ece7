// The round protocol's messages on the wire: one typed builder and one
// typed reader per message kind, between verified transport::Messages
// (wire.h) and the round core's values (algo/round_messages.h,
// algo/worker_sync.h). The server and the worker build and read messages
// only through these; nothing else touches an envelope's fields.
//
// Builders return the message's frames (envelope first; a ROUTER's caller
// puts the routing id in front). Readers take a Message whose kind is the
// one they read (checked) and return views into it that live as long as
// the Message; a string field the sender left out reads as empty.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/algo/round_messages.h"
#include "common/algo/worker_sync.h"
#include "common/transport/wire.h"

namespace anchorage::transport {

using Frames = std::vector<zmq::message_t>;

// ---- Worker to server ----

Frames MakeJoin(EnvelopeBuilder& builder, const algo::JoinRequest& join,
                uint64_t shard_size);
algo::JoinRequest ReadJoin(const Message& message);

// A push's fields but its payload, which follows as one frame.
Frames MakePush(EnvelopeBuilder& builder, const algo::PushRequest& push,
                std::vector<uint8_t> payload);
algo::PushRequest ReadPush(const Message& message);

// The exact values at the queried candidates (little-endian f32).
Frames MakeValues(EnvelopeBuilder& builder, uint32_t worker, uint64_t round,
                  std::vector<uint8_t> values);
algo::ValuesReply ReadValues(const Message& message);

Frames MakeLeave(EnvelopeBuilder& builder, uint32_t worker,
                 const std::string& reason);
std::string ReadLeaveReason(const Message& message);

// Asks for a credit to push `round` (a Welcome's ask_before_push).
Frames MakePushAsk(EnvelopeBuilder& builder, uint32_t worker, uint64_t round);
uint64_t ReadPushAskRound(const Message& message);

// Either way.
Frames MakeHeartbeat(EnvelopeBuilder& builder, uint32_t worker);

// ---- Server to worker ----

// `anchor` is the anchor's payload frame, encoded with codec `anchor_codec`;
// `run_id` names the server's run; `ask_before_push` that the server limits
// pushes in flight (PushAsk, PushCredit).
Frames MakeWelcome(EnvelopeBuilder& builder, const algo::Welcome& welcome,
                   uint64_t run_id, const std::string& anchor_codec,
                   bool ask_before_push, zmq::message_t anchor);
// `applied`, when the update carries it, follows the anchor as a frame of
// little-endian u32.
Frames MakeAnchor(EnvelopeBuilder& builder, const algo::AnchorUpdate& update,
                  const std::string& anchor_codec, zmq::message_t anchor);
// `candidates` is the frame of little-endian u32 indices (shared by every
// query of the round).
Frames MakeQuery(EnvelopeBuilder& builder, const algo::Query& query,
                 zmq::message_t candidates);
// Grants `worker` the push of `round` it asked for.
Frames MakePushCredit(EnvelopeBuilder& builder, uint32_t worker,
                      uint64_t round);
uint64_t ReadPushCreditRound(const Message& message);
Frames MakeDone(EnvelopeBuilder& builder, uint32_t worker, uint64_t version,
                const std::string& reason, bool completed);
Frames MakeError(EnvelopeBuilder& builder, uint32_t worker, algo::Refusal code,
                 const std::string& text);

// A Welcome or an Anchor, as the worker reads it. `payloads` are the
// anchor's frame and, for an anchor of a sketch round, the applied indices.
struct AnchorMessage {
  algo::AnchorHeader header;
  std::string codec;             // of the anchor's frame
  uint64_t run_id = 0;           // a Welcome's
  bool ask_before_push = false;  // a Welcome's
  int64_t push_sent_unix_ns = 0;
  std::vector<std::span<const uint8_t>> payloads;
};
AnchorMessage ReadAnchorMessage(const Message& message);

struct QueryMessage {
  uint64_t round = 0;
  std::vector<std::span<const uint8_t>> payloads;
};
QueryMessage ReadQuery(const Message& message);

struct DoneMessage {
  uint64_t version = 0;
  std::string reason;
  bool completed = false;
};
DoneMessage ReadDone(const Message& message);

struct ErrorMessage {
  proto::ErrorCode code = proto::ErrorCode::Unknown;
  std::string text;
};
ErrorMessage ReadError(const Message& message);

// The refusals a worker cannot get past by joining again.
bool RefusesAdmission(proto::ErrorCode code);

}  // namespace anchorage::transport
