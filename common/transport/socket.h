// ZeroMQ sockets as Anchorage uses them: creation with the options of
// DESIGN.md section 3, and multipart send/receive that turn zmq::error_t
// into Status. This is the adapter: nothing above it sees a ZeroMQ
// exception.
//
// A socket belongs to one thread; these functions add no locking.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/base/status.h"
#include "common/transport/curve.h"

namespace anchorage::transport {

struct SocketOptions {
  // Largest message ZeroMQ accepts from a peer (ZMQ_MAXMSGSIZE), per frame.
  int64_t max_message_bytes = int64_t{256} * 1024 * 1024;
  // Messages queued per peer before sends block (big frames: keep small).
  int send_hwm = 64;
  int receive_hwm = 64;
  // How long a blocked send waits before giving up.
  std::chrono::milliseconds send_timeout{2000};
  // Time pending messages may linger at close.
  std::chrono::milliseconds linger{200};
  // ZMQ_IMMEDIATE: queue messages only on a completed connection, so
  // nothing waits in a queue toward a peer that is gone (a send then
  // fails at once with a zero send_timeout).
  bool immediate = false;
  // CURVE (curve.h), Z85 keys; empty: plaintext. A ROUTER with
  // `curve_server_secret` is a CURVE server; a DEALER with `curve_client`
  // authenticates to it with those keys.
  std::string curve_server_secret;
  std::optional<CurveClientKeys> curve_client;
  // How long a bind to an address in use is retried, every 100 ms: a
  // restarted server's port can stay held for a moment after the old
  // process died (a client that reconnected to it while nothing listened
  // may have connected to itself on that very port until it gives up).
  std::chrono::milliseconds bind_retry{0};
};

// Creates a ROUTER bound to `endpoint` ("tcp://127.0.0.1:*" picks a port)
// with ROUTER_MANDATORY set and no ROUTER_HANDOVER: a second connection
// with a routing id already in use is ignored, never handed the first's
// messages. Returns Unavailable when the
// address cannot be bound (in use past `bind_retry`).
StatusOr<zmq::socket_t> BindRouter(zmq::context_t& context,
                                   const std::string& endpoint,
                                   const SocketOptions& options);

// Creates a DEALER with routing id `identity` connected to `endpoint`.
StatusOr<zmq::socket_t> ConnectDealer(zmq::context_t& context,
                                      const std::string& endpoint,
                                      const std::string& identity,
                                      const SocketOptions& options);

// Returns the endpoint a socket is bound to (resolves a wildcard port).
std::string LastEndpoint(const zmq::socket_t& socket);

// The total size of `frames` in bytes.
size_t FrameBytes(const std::vector<zmq::message_t>& frames);

// Sends `frames` as one multipart message. Returns NotFound when no
// connection has that routing id (a ROUTER with ROUTER_MANDATORY: the peer
// is gone), Unavailable when the peer's queue stayed full past the send
// timeout (at once with a zero timeout); the frames are consumed either way.
Status SendFrames(zmq::socket_t& socket, std::vector<zmq::message_t> frames);

// Receives one whole multipart message without blocking: nullopt when none
// is waiting. A message with more than `max_frames` frames is drained and
// returned as InvalidArgument, so the socket stays usable.
StatusOr<std::optional<std::vector<zmq::message_t>>> ReceiveFrames(
    zmq::socket_t& socket, size_t max_frames);

// A routing id for a new connection: 16 random bytes (the first non-zero,
// as ZeroMQ requires), so no other peer can guess and claim it.
std::string NewRoutingId();

// Waits until one of `sockets` is readable or `timeout` passes. Returns the
// readable flags, one per socket.
StatusOr<std::vector<bool>> Poll(const std::vector<zmq::socket_t*>& sockets,
                                 std::chrono::milliseconds timeout);

}  // namespace anchorage::transport
