#include "common/transport/wire.h"

#include <cstring>
#include <utility>

namespace anchorage::transport {
namespace {

bool IsAligned(const void* data) {
  return reinterpret_cast<std::uintptr_t>(data) % alignof(std::max_align_t) ==
         0;
}

}  // namespace

std::span<const uint8_t> Message::payload(size_t i) const {
  const zmq::message_t& frame = frames_.at(i + 1);
  return {static_cast<const uint8_t*>(frame.data()), frame.size()};
}

StatusOr<Message> ParseMessage(std::vector<zmq::message_t> frames,
                               std::string* reason) {
  if (frames.empty() || frames.size() > kMaxPayloadFrames + 1) {
    *reason = "frames";
    return Status::InvalidArgument(
        "message has " + std::to_string(frames.size()) +
        " frames, expected 1 to " + std::to_string(kMaxPayloadFrames + 1));
  }
  const zmq::message_t& head = frames.front();
  if (head.size() > kMaxEnvelopeBytes) {
    *reason = "oversized";
    return Status::InvalidArgument(
        "envelope of " + std::to_string(head.size()) +
        " bytes exceeds the limit of " + std::to_string(kMaxEnvelopeBytes));
  }
  Message message;
  message.wire_bytes_ = 0;
  for (const zmq::message_t& frame : frames) {
    message.wire_bytes_ += frame.size();
  }
  message.frames_ = std::move(frames);
  const zmq::message_t& envelope_frame = message.frames_.front();
  const auto* bytes = static_cast<const uint8_t*>(envelope_frame.data());
  const size_t size = envelope_frame.size();
  if (!IsAligned(bytes)) {
    message.aligned_.assign(bytes, bytes + size);
    bytes = message.aligned_.data();
  }
  if (size < 8 || !proto::EnvelopeBufferHasIdentifier(bytes)) {
    *reason = "verify";
    return Status::DataLoss("envelope of " + std::to_string(size) +
                            " bytes lacks the ANC1 identifier");
  }
  flatbuffers::Verifier verifier(bytes, size);
  if (!proto::VerifyEnvelopeBuffer(verifier)) {
    *reason = "verify";
    return Status::DataLoss("envelope of " + std::to_string(size) +
                            " bytes failed verification");
  }
  const proto::Envelope* envelope = proto::GetEnvelope(bytes);
  if (envelope->protocol_version() != kProtocolVersion) {
    *reason = "protocol_version";
    return Status::InvalidArgument(
        "protocol version " + std::to_string(envelope->protocol_version()) +
        ", this build speaks " + std::to_string(kProtocolVersion));
  }
  if (envelope->body_type() == proto::Body::NONE ||
      envelope->body() == nullptr) {
    *reason = "verify";
    return Status::DataLoss("envelope has no body");
  }
  if (envelope->payload_frames() != message.frames_.size() - 1) {
    *reason = "payload";
    return Status::InvalidArgument("envelope announces " +
                                   std::to_string(envelope->payload_frames()) +
                                   " payload frames, message has " +
                                   std::to_string(message.frames_.size() - 1));
  }
  message.envelope_ = envelope;
  return message;
}

zmq::message_t EnvelopeBuilder::Finish(uint32_t worker_id, proto::Body type,
                                       flatbuffers::Offset<void> body,
                                       uint8_t payload_frames) {
  const auto envelope = proto::CreateEnvelope(
      builder_, kProtocolVersion, worker_id, type, body, payload_frames);
  proto::FinishEnvelopeBuffer(builder_, envelope);
  zmq::message_t frame(builder_.GetBufferPointer(), builder_.GetSize());
  builder_.Clear();
  return frame;
}

zmq::message_t FrameFromBytes(std::vector<uint8_t> bytes) {
  if (bytes.empty()) return {};
  auto* owned = new std::vector<uint8_t>(std::move(bytes));
  return zmq::message_t(
      owned->data(), owned->size(),
      [](void* /*data*/, void* hint) {
        delete static_cast<std::vector<uint8_t>*>(hint);
      },
      owned);
}

}  // namespace anchorage::transport
