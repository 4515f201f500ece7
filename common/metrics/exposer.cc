#include "common/metrics/exposer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include "common/base/format.h"

namespace anchorage::metrics {
namespace {

constexpr int kPollMillis = 100;
constexpr size_t kMaxRequestBytes = 8192;

std::string Response(int code, const char* reason, const char* content_type,
                     const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

void SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n =
        ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    sent += static_cast<size_t>(n);
  }
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
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::Unavailable("cannot serve metrics on " + where + ": " +
                               ErrnoText(errno));
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bind_address),
             sizeof(bind_address)) != 0 ||
      ::listen(fd, 16) != 0) {
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
  while (!stop_.load()) {
    pollfd item{listen_fd_, POLLIN, 0};
    if (::poll(&item, 1, kPollMillis) != 1) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    Answer(client);
    ::close(client);
  }
}

void MetricsExposer::Answer(int client_fd) {
  std::string request;
  char buffer[1024];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.size() < kMaxRequestBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd item{client_fd, POLLIN, 0};
    if (left.count() <= 0 ||
        ::poll(&item, 1, static_cast<int>(left.count())) != 1) {
      return;
    }
    const ssize_t n = ::recv(client_fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  const size_t method_end = request.find(' ');
  const size_t path_end = request.find(' ', method_end + 1);
  if (method_end == std::string::npos || path_end == std::string::npos) {
    SendAll(client_fd,
            Response(400, "Bad Request", "text/plain", "bad request\n"));
    return;
  }
  const std::string method = request.substr(0, method_end);
  std::string path = request.substr(method_end + 1, path_end - method_end - 1);
  path = path.substr(0, path.find('?'));
  if (method != "GET" && method != "HEAD") {
    SendAll(client_fd,
            Response(405, "Method Not Allowed", "text/plain", "only GET\n"));
    return;
  }
  if (path == "/metrics") {
    const std::string body =
        prometheus::TextSerializer().Serialize(registry_->Collect());
    SendAll(client_fd, Response(200, "OK", "text/plain; version=0.0.4", body));
  } else if (path == "/healthz") {
    SendAll(client_fd, Response(200, "OK", "text/plain", "ok\n"));
  } else if (path == "/readyz") {
    if (ready_.load()) {
      SendAll(client_fd, Response(200, "OK", "text/plain", "ready\n"));
    } else {
      SendAll(client_fd, Response(503, "Service Unavailable", "text/plain",
                                  "not ready\n"));
    }
  } else {
    SendAll(client_fd, Response(404, "Not Found", "text/plain",
                                "try /metrics, /healthz or /readyz\n"));
  }
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
