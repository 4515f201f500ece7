// CURVE authentication and encryption (DESIGN.md section 10), through
// libzmq's CURVE mechanism (libsodium): key files, the options a socket
// needs, and the ZAP handler that admits only the listed worker keys and
// binds key i to worker id i.
//
// Key files hold one line of 40 Z85 characters. `anchorage keygen` writes
// server.pub, server.secret, worker-<i>.pub and worker-<i>.secret; secrets
// are mode 0600.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/base/status.h"

namespace anchorage::transport {

// Writes a fresh server key pair and one per worker into `dir` (created if
// missing). Unavailable naming the file that could not be written;
// FailedPrecondition when libzmq was built without CURVE.
Status WriteCurveKeys(const std::string& dir, int workers);

// The key in the file at `path`. InvalidArgument naming the file when it
// cannot be read or is not 40 Z85 characters.
StatusOr<std::string> ReadCurveKey(const std::string& path);

// The public key of the Z85 secret key `secret`.
StatusOr<std::string> CurvePublicKey(const std::string& secret);

// What a client needs to authenticate: its own key pair and the server's
// public key, Z85.
struct CurveClientKeys {
  std::string server_public;
  std::string public_key;
  std::string secret_key;
};

// Reads the client's secret key file and the server's public key file.
// ReadCurveKey's errors.
StatusOr<CurveClientKeys> ReadCurveClientKeys(const std::string& secret_path,
                                              const std::string& server_path);

// The allow-list in `dir`: each worker-<i>.pub for i in [0, workers), by
// key. InvalidArgument naming a missing or malformed file or a key listed
// twice.
StatusOr<std::map<std::string, uint32_t>> ReadAllowedKeys(
    const std::string& dir, int workers);

// Answers ZeroMQ's authentication requests (ZAP, RFC 27) for every CURVE
// socket of `context` on its own thread: a client whose public key is in
// the allow-list is admitted with the user id "worker-<i>", every other
// one (and every other mechanism) is refused. Must exist before a CURVE
// server socket accepts connections.
class ZapHandler {
 public:
  // `allowed` maps Z85 public keys to worker ids.
  static StatusOr<std::unique_ptr<ZapHandler>> Start(
      zmq::context_t& context, std::map<std::string, uint32_t> allowed);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;
  ZapHandler(ZapHandler&&) = delete;
  ZapHandler& operator=(ZapHandler&&) = delete;

 private:
  ZapHandler(zmq::socket_t socket, std::map<std::string, uint32_t> allowed);
  void Serve();
  // The reply frames to one request.
  void Answer(std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;
  std::map<std::string, uint32_t> allowed_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The worker id the ZAP handler bound to the connection `frame` arrived
// on, or nullopt when the connection is not CURVE-authenticated.
std::optional<uint32_t> AuthenticatedWorker(zmq::message_t& frame);

}  // namespace anchorage::transport
