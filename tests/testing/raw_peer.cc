#include "tests/testing/raw_peer.h"

#include <chrono>
#include <utility>

#include <gtest/gtest.h>

#include "common/transport/socket.h"

namespace anchorage::testing {

using std::chrono::seconds;

namespace {

transport::SocketOptions PeerOptions(const transport::CurveClientKeys* curve) {
  transport::SocketOptions options;
  options.send_timeout = std::chrono::milliseconds(1000);
  if (curve != nullptr) {
    options.curve_client = *curve;
  }
  return options;
}

}  // namespace

RawPeer::RawPeer(const std::string& endpoint, const std::string& identity,
                 const transport::CurveClientKeys* curve)
    : context_(1),
      socket_(transport::ConnectDealer(
                  context_, endpoint,
                  identity.empty() ? transport::NewRoutingId() : identity,
                  PeerOptions(curve))
                  .value()) {}

bool RawPeer::Send(std::vector<zmq::message_t> frames) {
  return transport::SendFrames(socket_, std::move(frames)).ok();
}

void RawPeer::SendJoin(uint32_t id, uint64_t dim, const std::string& algorithm,
                       const std::string& codec,
                       const std::string& codec_settings,
                       uint64_t incarnation) {
  transport::EnvelopeBuilder builder;
  const auto body = proto::CreateJoinDirect(builder.builder(), incarnation, dim,
                                            algorithm.c_str(), codec.c_str(),
                                            10, codec_settings.c_str());
  std::vector<zmq::message_t> frames;
  frames.push_back(builder.Finish(id, proto::Body::Join, body.Union(), 0));
  EXPECT_TRUE(Send(std::move(frames)));
}

void RawPeer::SendPush(uint32_t id, std::vector<float> values,
                       uint8_t payloads) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  SendEncodedPush(id, "dense", {},
                  {bytes, bytes + values.size() * sizeof(float)}, payloads);
}

void RawPeer::SendEncodedPush(uint32_t id, const std::string& codec,
                              const RawPushFields& fields,
                              const std::vector<uint8_t>& bytes,
                              uint8_t payloads) {
  transport::EnvelopeBuilder builder;
  const auto body = proto::CreatePushDirect(
      builder.builder(), fields.base_version, fields.round, codec.c_str(), 0,
      fields.samples, fields.local_steps, 1.0F, 0.1, 0.0);
  std::vector<zmq::message_t> frames;
  frames.push_back(
      builder.Finish(id, proto::Body::Push, body.Union(), payloads));
  for (uint8_t i = 0; i < payloads; ++i) {
    frames.emplace_back(bytes.data(), bytes.size());
  }
  EXPECT_TRUE(Send(std::move(frames)));
}

void RawPeer::SendValues(uint32_t id, uint64_t round,
                         std::vector<uint8_t> bytes) {
  transport::EnvelopeBuilder builder;
  const auto body = proto::CreateValues(builder.builder(), round);
  std::vector<zmq::message_t> frames;
  frames.push_back(builder.Finish(id, proto::Body::Values, body.Union(), 1));
  frames.emplace_back(bytes.data(), bytes.size());
  EXPECT_TRUE(Send(std::move(frames)));
}

std::optional<transport::Message> RawPeer::Expect(proto::Body kind) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    StatusOr<std::vector<bool>> readable =
        transport::Poll({&socket_}, std::chrono::milliseconds(100));
    if (!readable.ok() || !(*readable)[0]) continue;
    auto frames = transport::ReceiveFrames(socket_, 8);
    if (!frames.ok() || !frames->has_value()) continue;
    std::string reason;
    StatusOr<transport::Message> message =
        transport::ParseMessage(std::move(**frames), &reason);
    if (!message.ok()) continue;
    if (message->kind() == proto::Body::Heartbeat) continue;
    if (message->kind() != kind) {
      ADD_FAILURE() << "expected " << proto::EnumNameBody(kind) << ", got "
                    << proto::EnumNameBody(message->kind());
      return std::nullopt;
    }
    return std::move(message).value();
  }
  ADD_FAILURE() << "no " << proto::EnumNameBody(kind) << " within 10 s";
  return std::nullopt;
}

bool RawPeer::HearsNothingFor(std::chrono::milliseconds wait) {
  StatusOr<std::vector<bool>> readable = transport::Poll({&socket_}, wait);
  return readable.ok() && !(*readable)[0];
}

proto::ErrorCode RawPeer::ExpectError() {
  std::optional<transport::Message> error = Expect(proto::Body::Error);
  if (!error) return proto::ErrorCode::Unknown;
  return error->envelope().body_as_Error()->code();
}

}  // namespace anchorage::testing
