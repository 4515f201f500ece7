#include "common/transport/socket.h"

#include <cerrno>
#include <chrono>
#include <random>
#include <thread>
#include <utility>

namespace anchorage::transport {
namespace {

void ApplyCommon(zmq::socket_t& socket, const SocketOptions& options) {
  socket.set(zmq::sockopt::linger, static_cast<int>(options.linger.count()));
  socket.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  socket.set(zmq::sockopt::sndhwm, options.send_hwm);
  socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
  socket.set(zmq::sockopt::sndtimeo,
             static_cast<int>(options.send_timeout.count()));
  socket.set(zmq::sockopt::immediate, options.immediate ? 1 : 0);
}

}  // namespace

StatusOr<zmq::socket_t> BindRouter(zmq::context_t& context,
                                   const std::string& endpoint,
                                   const SocketOptions& options) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::router);
    ApplyCommon(socket, options);
    socket.set(zmq::sockopt::router_mandatory, 1);
    if (!options.curve_server_secret.empty()) {
      socket.set(zmq::sockopt::curve_server, 1);
      socket.set(zmq::sockopt::curve_secretkey, options.curve_server_secret);
    }
    const auto deadline = std::chrono::steady_clock::now() + options.bind_retry;
    while (true) {
      try {
        socket.bind(endpoint);
        return socket;
      } catch (const zmq::error_t& e) {
        if (e.num() != EADDRINUSE ||
            std::chrono::steady_clock::now() >= deadline) {
          throw;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind " + endpoint + ": " + e.what());
  }
}

StatusOr<zmq::socket_t> ConnectDealer(zmq::context_t& context,
                                      const std::string& endpoint,
                                      const std::string& identity,
                                      const SocketOptions& options) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    ApplyCommon(socket, options);
    socket.set(zmq::sockopt::routing_id, identity);
    if (const std::optional<CurveClientKeys>& curve = options.curve_client) {
      socket.set(zmq::sockopt::curve_serverkey, curve->server_public);
      socket.set(zmq::sockopt::curve_publickey, curve->public_key);
      socket.set(zmq::sockopt::curve_secretkey, curve->secret_key);
    }
    socket.connect(endpoint);
    return socket;
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot connect to " + endpoint + ": " +
                               e.what());
  }
}

std::string LastEndpoint(const zmq::socket_t& socket) {
  return socket.get(zmq::sockopt::last_endpoint);
}

size_t FrameBytes(const std::vector<zmq::message_t>& frames) {
  size_t bytes = 0;
  for (const zmq::message_t& frame : frames) {
    bytes += frame.size();
  }
  return bytes;
}

Status SendFrames(zmq::socket_t& socket, std::vector<zmq::message_t> frames) {
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore
                                               : zmq::send_flags::none;
      if (!socket.send(frames[i], flags)) {
        return Status::Unavailable(
            "the peer's queue is full (it is not reading)");
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      return Status::NotFound("no connection with that routing id");
    }
    return Status::Unavailable(std::string("send failed: ") + e.what());
  }
  return Status::Ok();
}

StatusOr<std::optional<std::vector<zmq::message_t>>> ReceiveFrames(
    zmq::socket_t& socket, size_t max_frames) {
  std::vector<zmq::message_t> frames;
  size_t count = 0;
  try {
    while (true) {
      zmq::message_t frame;
      const auto flags =
          count == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none;
      if (!socket.recv(frame, flags)) {
        return std::optional<std::vector<zmq::message_t>>();
      }
      ++count;
      const bool more = frame.more();
      if (count <= max_frames) frames.push_back(std::move(frame));
      if (!more) break;
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("receive failed: ") + e.what());
  }
  if (count > max_frames) {
    return Status::InvalidArgument("message of " + std::to_string(count) +
                                   " frames exceeds the limit of " +
                                   std::to_string(max_frames));
  }
  return std::optional<std::vector<zmq::message_t>>(std::move(frames));
}

std::string NewRoutingId() {
  std::random_device device;
  std::uniform_int_distribution<int> byte(0, 255);
  std::string id(16, '\0');
  for (char& c : id) {
    c = static_cast<char>(byte(device));
  }
  if (id[0] == '\0') id[0] = 1;
  return id;
}

StatusOr<std::vector<bool>> Poll(const std::vector<zmq::socket_t*>& sockets,
                                 std::chrono::milliseconds timeout) {
  std::vector<zmq::pollitem_t> items;
  items.reserve(sockets.size());
  for (zmq::socket_t* socket : sockets) {
    items.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
  }
  try {
    zmq::poll(items, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) {
      return Status::Unavailable(std::string("poll failed: ") + e.what());
    }
  }
  std::vector<bool> readable(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    readable[i] = (items[i].revents & ZMQ_POLLIN) != 0;
  }
  return readable;
}

}  // namespace anchorage::transport
