#include "common/metrics/scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/base/format.h"

namespace anchorage::metrics {
namespace {

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  FdCloser(FdCloser&&) = delete;
  FdCloser& operator=(FdCloser&&) = delete;

 private:
  int fd_;
};

bool WaitFor(int fd, int16_t events,
             std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd item{fd, events, 0};
  return ::poll(&item, 1, static_cast<int>(left.count())) == 1;
}

}  // namespace

namespace {

using Deadline = std::chrono::steady_clock::time_point;

Status ConnectBy(int fd, const sockaddr_in& address, Deadline deadline,
                 const std::string& where) {
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    return Status::Unavailable("cannot connect to " + where + ": " +
                               ErrnoText(errno));
  }
  if (!WaitFor(fd, POLLOUT, deadline)) {
    return Status::Unavailable("timed out connecting to " + where);
  }
  int error = 0;
  socklen_t length = sizeof(error);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    return Status::Unavailable("cannot connect to " + where + ": " +
                               ErrnoText(error));
  }
  return Status::Ok();
}

Status SendBy(int fd, const std::string& request, Deadline deadline,
              const std::string& where) {
  size_t sent = 0;
  while (sent < request.size()) {
    if (!WaitFor(fd, POLLOUT, deadline)) {
      return Status::Unavailable("timed out sending to " + where);
    }
    const ssize_t n =
        ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      return Status::Unavailable("send to " + where + ": " + ErrnoText(errno));
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Reads until the peer closes the connection.
StatusOr<std::string> ReadBy(int fd, Deadline deadline,
                             const std::string& where) {
  std::string response;
  char buffer[16384];
  while (true) {
    if (!WaitFor(fd, POLLIN, deadline)) {
      return Status::Unavailable("timed out reading " + where);
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return response;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      return Status::Unavailable("read " + where + ": " + ErrnoText(errno));
    }
    response.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

StatusOr<std::string> HttpGet(const std::string& host, int port,
                              const std::string& path,
                              std::chrono::milliseconds timeout) {
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  const std::string where = host + ":" + std::to_string(port) + path;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return Status::InvalidArgument("not an IPv4 address: " + host);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Status::Unavailable("socket: " + ErrnoText(errno));
  }
  const FdCloser closer(fd);
  Status status = ConnectBy(fd, address, deadline, where);
  if (!status.ok()) return status;
  status = SendBy(fd, "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n",
                  deadline, where);
  if (!status.ok()) return status;
  StatusOr<std::string> response = ReadBy(fd, deadline, where);
  if (!response.ok()) return response.status();
  const size_t header_end = response->find("\r\n\r\n");
  const bool http = response->compare(0, 9, "HTTP/1.1 ") == 0 ||
                    response->compare(0, 9, "HTTP/1.0 ") == 0;
  if (header_end == std::string::npos || !http) {
    return Status::DataLoss("malformed HTTP response from " + where);
  }
  if (response->compare(9, 3, "200") != 0) {
    return Status::Unavailable("HTTP status " + response->substr(9, 3) +
                               " from " + where);
  }
  return response->substr(header_end + 4);
}

std::optional<double> FindSample(std::string_view text,
                                 std::string_view series) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.size() > series.size() &&
        line.substr(0, series.size()) == series && line[series.size()] == ' ') {
      const std::string value(line.substr(series.size() + 1));
      char* parse_end = nullptr;
      const double number = std::strtod(value.c_str(), &parse_end);
      if (parse_end != value.c_str()) return number;
    }
  }
  return std::nullopt;
}

}  // namespace anchorage::metrics
