// The Anchorage wire format on top of ZeroMQ multipart messages: one
// FlatBuffers Envelope frame (proto/messages.fbs) followed by raw payload
// frames. This file builds envelopes and turns received frames into a
// verified Message; nothing here touches a socket.
//
// Every received envelope is bounded, copied to aligned memory when ZeroMQ
// delivered it misaligned, checked for the file identifier, verified with
// the FlatBuffers verifier and checked for the protocol version before any
// field is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <flatbuffers/flatbuffers.h>
#include <zmq.hpp>

#include "common/base/status.h"
#include "proto/messages_generated.h"

namespace anchorage::transport {

inline constexpr uint16_t kProtocolVersion = 1;
// Payload frames a message may carry.
inline constexpr size_t kMaxPayloadFrames = 4;
// Largest envelope frame accepted (envelopes carry no tensors).
inline constexpr size_t kMaxEnvelopeBytes = size_t{64} * 1024;

// A received message whose envelope passed verification. Owns its frames;
// the envelope pointer and payload spans stay valid while it lives.
class Message {
 public:
  Message(Message&&) = default;
  Message& operator=(Message&&) = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message() = default;

  const proto::Envelope& envelope() const { return *envelope_; }
  proto::Body kind() const { return envelope_->body_type(); }
  uint32_t worker_id() const { return envelope_->worker_id(); }
  size_t num_payloads() const { return frames_.size() - 1; }
  // Bytes of payload frame `i` (0-based, after the envelope). May be
  // misaligned: read it with memcpy (codecs do).
  std::span<const uint8_t> payload(size_t i) const;
  // Bytes of every frame of the message, as counted on the wire.
  size_t wire_bytes() const { return wire_bytes_; }

 private:
  friend StatusOr<Message> ParseMessage(std::vector<zmq::message_t> frames,
                                        std::string* reason);
  Message() = default;

  std::vector<zmq::message_t> frames_;  // envelope, then payloads
  std::vector<uint8_t> aligned_;        // aligned copy of a misaligned envelope
  const proto::Envelope* envelope_ = nullptr;
  size_t wire_bytes_ = 0;
};

// Verifies `frames` (envelope first; any ROUTER routing id already removed)
// and returns the Message. On failure returns DataLoss or InvalidArgument
// naming the problem and sets *reason to a low-cardinality label for
// metrics: "frames", "oversized", "verify", "protocol_version", "payload".
StatusOr<Message> ParseMessage(std::vector<zmq::message_t> frames,
                               std::string* reason);

// Builds envelope frames. Use builder() to create the body table, then
// Finish() once; the builder is reset for the next message.
class EnvelopeBuilder {
 public:
  flatbuffers::FlatBufferBuilder& builder() { return builder_; }

  // Finishes an Envelope around `body` and returns it as a frame.
  zmq::message_t Finish(uint32_t worker_id, proto::Body type,
                        flatbuffers::Offset<void> body, uint8_t payload_frames);

 private:
  flatbuffers::FlatBufferBuilder builder_{1024};
};

// Returns a frame that takes ownership of `bytes` without copying them;
// ZeroMQ frees them when the frame has been sent.
zmq::message_t FrameFromBytes(std::vector<uint8_t> bytes);

// Returns a frame over immutable `values` without copying them, sent to as
// many peers as hold it: the frame keeps a reference until ZeroMQ has sent
// it (its I/O thread drops it), and nobody writes the values meanwhile.
template <typename T>
zmq::message_t FrameOver(std::shared_ptr<const std::vector<T>> values) {
  using Held = std::shared_ptr<const std::vector<T>>;
  if (values->empty()) return {};
  auto* held = new Held(std::move(values));
  // ZeroMQ only reads a frame it sends; its API takes a non-const pointer.
  return zmq::message_t(
      const_cast<T*>((*held)->data()), (*held)->size() * sizeof(T),
      [](void* /*data*/, void* hint) { delete static_cast<Held*>(hint); },
      held);
}

}  // namespace anchorage::transport
