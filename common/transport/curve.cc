#include "common/transport/curve.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/format.h"
#include "common/io/file.h"

namespace anchorage::transport {
namespace {

constexpr size_t kZ85KeyLength = 40;
constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr char kUserIdPrefix[] = "worker-";

Status WriteKey(const std::string& path, const std::string& key, mode_t mode) {
  Status status = io::WriteFileAtomically(path, key + "\n");
  if (!status.ok()) return status;
  if (::chmod(path.c_str(), mode) != 0) {
    return Status::Unavailable("cannot set the mode of " + path + ": " +
                               ErrnoText(errno));
  }
  return Status::Ok();
}

Status WritePair(const std::string& dir, const std::string& name) {
  std::array<char, kZ85KeyLength + 1> public_key{};
  std::array<char, kZ85KeyLength + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    return Status::FailedPrecondition(
        "this libzmq has no CURVE support (built without libsodium)");
  }
  Status status =
      WriteKey(dir + "/" + name + ".secret", secret_key.data(), 0600);
  if (!status.ok()) return status;
  return WriteKey(dir + "/" + name + ".pub", public_key.data(), 0644);
}

bool IsZ85Key(std::string_view text) {
  constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
      ".-:+=^!/*?&<>()[]{}@%$#";
  return text.size() == kZ85KeyLength &&
         text.find_first_not_of(kAlphabet) == std::string_view::npos;
}

}  // namespace

Status WriteCurveKeys(const std::string& dir, int workers) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::Unavailable("cannot create " + dir + ": " + error.message());
  }
  Status status = WritePair(dir, "server");
  for (int id = 0; id < workers && status.ok(); ++id) {
    status = WritePair(dir, "worker-" + std::to_string(id));
  }
  return status;
}

StatusOr<std::string> ReadCurveKey(const std::string& path) {
  StatusOr<std::string> text = io::ReadFile(path);
  if (!text.ok()) {
    return Status::InvalidArgument("CURVE key " + path + ": " +
                                   text.status().message());
  }
  std::string key = *text;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) {
    key.pop_back();
  }
  if (!IsZ85Key(key)) {
    return Status::InvalidArgument("CURVE key " + path +
                                   " is not one line of 40 Z85 characters");
  }
  return key;
}

StatusOr<std::string> CurvePublicKey(const std::string& secret) {
  std::array<char, kZ85KeyLength + 1> public_key{};
  if (!IsZ85Key(secret) ||
      zmq_curve_public(public_key.data(), secret.c_str()) != 0) {
    return Status::InvalidArgument("not a CURVE secret key");
  }
  return std::string(public_key.data());
}

StatusOr<CurveClientKeys> ReadCurveClientKeys(const std::string& secret_path,
                                              const std::string& server_path) {
  StatusOr<std::string> secret = ReadCurveKey(secret_path);
  if (!secret.ok()) return secret.status();
  StatusOr<std::string> server = ReadCurveKey(server_path);
  if (!server.ok()) return server.status();
  StatusOr<std::string> public_key = CurvePublicKey(*secret);
  if (!public_key.ok()) {
    return Status::InvalidArgument("CURVE key " + secret_path + ": " +
                                   public_key.status().message());
  }
  return CurveClientKeys{.server_public = *server,
                         .public_key = *public_key,
                         .secret_key = *secret};
}

StatusOr<std::map<std::string, uint32_t>> ReadAllowedKeys(
    const std::string& dir, int workers) {
  std::map<std::string, uint32_t> allowed;
  for (int id = 0; id < workers; ++id) {
    StatusOr<std::string> key =
        ReadCurveKey(dir + "/worker-" + std::to_string(id) + ".pub");
    if (!key.ok()) return key.status();
    if (!allowed.emplace(*key, static_cast<uint32_t>(id)).second) {
      return Status::InvalidArgument("worker-" + std::to_string(id) +
                                     ".pub in " + dir +
                                     " repeats another worker's key");
    }
  }
  return allowed;
}

StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(
    zmq::context_t& context, std::map<std::string, uint32_t> allowed) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(kZapEndpoint);
    return std::unique_ptr<ZapHandler>(
        new ZapHandler(std::move(socket), std::move(allowed)));
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("cannot start the ZAP handler: ") +
                               e.what());
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket,
                       std::map<std::string, uint32_t> allowed)
    : socket_(std::move(socket)), allowed_(std::move(allowed)) {
  thread_ = std::thread(&ZapHandler::Serve, this);
}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  thread_.join();
}

void ZapHandler::Serve() {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
      std::vector<zmq::message_t> request;
      do {
        request.emplace_back();
        if (!socket_.recv(request.back(), zmq::recv_flags::none)) break;
      } while (request.back().more());
      Answer(request);
    } catch (const zmq::error_t&) {
      return;  // the context is shutting down
    }
  }
}

void ZapHandler::Answer(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism,
  // credentials (CURVE: the client's 32-byte public key).
  std::string status = "400";
  std::string text = "unknown key";
  std::string user;
  if (request.size() >= 7 && request[5].to_string() == "CURVE" &&
      request[6].size() == 32) {
    std::array<char, kZ85KeyLength + 1> key{};
    zmq_z85_encode(key.data(), request[6].data<uint8_t>(), 32);
    const auto it = allowed_.find(key.data());
    if (it != allowed_.end()) {
      status = "200";
      text = "OK";
      user = kUserIdPrefix + std::to_string(it->second);
    }
  } else {
    text = "only listed CURVE keys are admitted";
  }
  const std::string request_id =
      request.size() >= 2 ? request[1].to_string() : std::string();
  const std::vector<std::string> reply = {"1.0", request_id, status,
                                          text,  user,       ""};
  for (size_t i = 0; i < reply.size(); ++i) {
    socket_.send(zmq::buffer(reply[i]), i + 1 < reply.size()
                                            ? zmq::send_flags::sndmore
                                            : zmq::send_flags::none);
  }
}

std::optional<uint32_t> AuthenticatedWorker(zmq::message_t& frame) {
  const char* user = zmq_msg_gets(frame.handle(), "User-Id");
  if (user == nullptr) return std::nullopt;
  const std::string_view id(user);
  const std::string_view prefix(kUserIdPrefix);
  if (id.substr(0, prefix.size()) != prefix) return std::nullopt;
  uint32_t worker = 0;
  for (const char digit : id.substr(prefix.size())) {
    if (digit < '0' || digit > '9') return std::nullopt;
    worker = worker * 10 + static_cast<uint32_t>(digit - '0');
  }
  return worker;
}

}  // namespace anchorage::transport
