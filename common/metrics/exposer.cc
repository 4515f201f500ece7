#include "common/metrics/exposer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include "common/base/format.h"

namespace anchorage::metrics {
namespace {

constexpr int kPollMillis = 100;
constexpr size_t kMaxRequestBytes = 8192;
constexpr size_t kMaxConnections = 256;
constexpr std::chrono::seconds kClientTimeout{2};

// The whole response; HEAD gets the headers GET would, without the body.
std::string Response(int code, const char* reason, const char* content_type,
                     const std::string& body, bool with_body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + (with_body ? body : "");
}

}  // namespace

StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Create(
    const std::string& address, int port,
    std::shared_ptr<prometheus::Registry> registry) {
  const std::string where = address + ":" + std::to_string(port);
  sockaddr_in bind_address{};
  bind_address.sin_family = AF_INET;
  bind_address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, address.c_str(), &bind_address.sin_addr) != 1) {
    return Status::InvalidArgument("metrics address is not an IPv4 address: " +
                                   address);
  }
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Status::Unavailable("cannot serve metrics on " + where + ": " +
                               ErrnoText(errno));
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bind_address),
             sizeof(bind_address)) != 0 ||
      ::listen(fd, 128) != 0) {
    const std::string error = ErrnoText(errno);
    ::close(fd);
    return Status::Unavailable("cannot serve metrics on " + where + ": " +
                               error);
  }
  sockaddr_in bound{};
  socklen_t length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  return std::unique_ptr<MetricsExposer>(
      new MetricsExposer(fd, ntohs(bound.sin_port), std::move(registry)));
}

MetricsExposer::MetricsExposer(int listen_fd, int port,
                               std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)), listen_fd_(listen_fd), port_(port) {
  thread_ = std::thread(&MetricsExposer::Serve, this);
}

MetricsExposer::~MetricsExposer() {
  stop_.store(true);
  thread_.join();
  ::close(listen_fd_);
}

void MetricsExposer::Serve() {
  std::vector<Connection> connections;
  std::vector<pollfd> items;
  while (!stop_.load()) {
    items.assign(1, {listen_fd_, POLLIN, 0});
    for (const Connection& connection : connections) {
      items.push_back(
          {connection.fd,
           static_cast<int16_t>(connection.response.empty() ? POLLIN : POLLOUT),
           0});
    }
    if (::poll(items.data(), items.size(), kPollMillis) < 0) continue;
    const auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < connections.size(); ++i) {
      if (items[i + 1].revents != 0) Progress(connections[i]);
      if (now > connections[i].deadline) connections[i].done = true;
    }
    std::erase_if(connections, [](const Connection& connection) {
      if (connection.done) ::close(connection.fd);
      return connection.done;
    });
    if ((items[0].revents & POLLIN) != 0) Accept(&connections, now);
  }
  for (const Connection& connection : connections) {
    ::close(connection.fd);
  }
}

void MetricsExposer::Accept(std::vector<Connection>* connections,
                            std::chrono::steady_clock::time_point now) const {
  // Everyone waiting, up to the limit; past it a client is closed at once.
  while (true) {
    const int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (connections->size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    connections->push_back({.fd = fd, .deadline = now + kClientTimeout});
  }
}

void MetricsExposer::Progress(Connection& connection) {
  if (connection.response.empty()) {
    char buffer[1024];
    const ssize_t n = ::recv(connection.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      connection.done = true;
      return;
    }
    connection.request.append(buffer, static_cast<size_t>(n));
    if (connection.request.find("\r\n\r\n") == std::string::npos &&
        connection.request.size() < kMaxRequestBytes) {
      return;
    }
    connection.response = Respond(connection.request);
  }
  const ssize_t n =
      ::send(connection.fd, connection.response.data() + connection.sent,
             connection.response.size() - connection.sent, MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    connection.done = true;
    return;
  }
  connection.sent += static_cast<size_t>(n);
  connection.done = connection.sent == connection.response.size();
}

std::string MetricsExposer::Respond(const std::string& request) const {
  const size_t method_end = request.find(' ');
  const size_t path_end = request.find(' ', method_end + 1);
  if (method_end == std::string::npos || path_end == std::string::npos) {
    return Response(400, "Bad Request", "text/plain", "bad request\n", true);
  }
  const std::string method = request.substr(0, method_end);
  std::string path = request.substr(method_end + 1, path_end - method_end - 1);
  path = path.substr(0, path.find('?'));
  if (method != "GET" && method != "HEAD") {
    return Response(405, "Method Not Allowed", "text/plain",
                    "only GET and HEAD\n", true);
  }
  const bool body = method == "GET";
  if (path == "/metrics") {
    return Response(
        200, "OK", "text/plain; version=0.0.4",
        prometheus::TextSerializer().Serialize(registry_->Collect()), body);
  }
  if (path == "/healthz") {
    return Response(200, "OK", "text/plain", "ok\n", body);
  }
  if (path == "/readyz") {
    return ready_.load() ? Response(200, "OK", "text/plain", "ready\n", body)
                         : Response(503, "Service Unavailable", "text/plain",
                                    "not ready\n", body);
  }
  return Response(404, "Not Found", "text/plain",
                  "try /metrics, /healthz or /readyz\n", body);
}

void AddBuildInfo(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("anchorage_build_info")
      .Help("Build information; always 1")
      .Register(registry)
      .Add({{"version", ANCHORAGE_VERSION}})
      .Set(1);
}

}  // namespace anchorage::metrics
