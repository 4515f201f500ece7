#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "common/base/status.h"
#include "common/metrics/exposer.h"
#include "common/metrics/scrape.h"

namespace anchorage::metrics {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kDeadline{5000};
const std::string kLoopback = "127.0.0.1";

// A TCP socket on a loopback port picked by the kernel. Bound but not
// listening, connections to the port are refused; listening but never
// accepting, connections succeed and then nothing is ever answered. Holding
// the socket keeps other tests from taking the port.
class LoopbackPort {
 public:
  enum class Mode { kRefuse, kListenSilently };

  explicit LoopbackPort(Mode mode) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address),
                             sizeof(address)) == 0;
    if (ok_ && mode == Mode::kListenSilently) ok_ = ::listen(fd_, 4) == 0;
    socklen_t length = sizeof(address);
    if (ok_) {
      ok_ = ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address),
                          &length) == 0;
    }
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;
  LoopbackPort(LoopbackPort&&) = delete;
  LoopbackPort& operator=(LoopbackPort&&) = delete;

  bool ok() const { return ok_; }
  int port() const { return port_; }

 private:
  int fd_;
  bool ok_ = false;
  int port_ = 0;
};

std::unique_ptr<MetricsExposer> StartExposer(
    std::shared_ptr<prometheus::Registry> registry) {
  StatusOr<std::unique_ptr<MetricsExposer>> exposer =
      MetricsExposer::Create(kLoopback, 0, std::move(registry));
  EXPECT_TRUE(exposer.ok()) << exposer.status().ToString();
  if (!exposer.ok()) return nullptr;
  return std::move(exposer).value();
}

std::string BuildInfoSeries() {
  return std::string("anchorage_build_info{version=\"") +
         ANCHORAGE_EXPECTED_VERSION + "\"}";
}

TEST(MetricsExposerTest, ServesRegistryOnPickedPort) {
  auto registry = std::make_shared<prometheus::Registry>();
  AddBuildInfo(*registry);
  prometheus::Family<prometheus::Counter>& family =
      prometheus::BuildCounter()
          .Name("anchorage_test_events_total")
          .Help("Events seen by the test")
          .Register(*registry);
  family.Add({{"role", "server"}, {"kind", "push"}}).Increment(3);
  family.Add({{"role", "server"}, {"kind", "join"}}).Increment();
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  EXPECT_GT(exposer->port(), 0);
  EXPECT_LT(exposer->port(), 65536);

  const StatusOr<std::string> text =
      HttpGet(kLoopback, exposer->port(), "/metrics", kDeadline);

  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(FindSample(*text, BuildInfoSeries()), 1.0) << *text;
  // Labels are printed sorted by name.
  EXPECT_EQ(
      FindSample(*text,
                 "anchorage_test_events_total{kind=\"push\",role=\"server\"}"),
      3.0)
      << *text;
  EXPECT_EQ(
      FindSample(*text,
                 "anchorage_test_events_total{kind=\"join\",role=\"server\"}"),
      1.0)
      << *text;
}

TEST(MetricsExposerTest, ScrapeSeesLaterUpdates) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::Counter& counter = prometheus::BuildCounter()
                                     .Name("anchorage_test_ticks_total")
                                     .Help("Ticks")
                                     .Register(*registry)
                                     .Add({});
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  const StatusOr<std::string> before =
      HttpGet(kLoopback, exposer->port(), "/metrics", kDeadline);

  counter.Increment(41.5);
  const StatusOr<std::string> after =
      HttpGet(kLoopback, exposer->port(), "/metrics", kDeadline);

  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(FindSample(*before, "anchorage_test_ticks_total"), 0.0) << *before;
  EXPECT_EQ(FindSample(*after, "anchorage_test_ticks_total"), 41.5) << *after;
}

TEST(MetricsExposerTest, TwoExposersGetDifferentPorts) {
  auto registry = std::make_shared<prometheus::Registry>();
  AddBuildInfo(*registry);

  const std::unique_ptr<MetricsExposer> first = StartExposer(registry);
  const std::unique_ptr<MetricsExposer> second = StartExposer(registry);

  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first->port(), second->port());
  for (const int port : {first->port(), second->port()}) {
    const StatusOr<std::string> text =
        HttpGet(kLoopback, port, "/metrics", kDeadline);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(FindSample(*text, BuildInfoSeries()), 1.0) << *text;
  }
}

TEST(MetricsExposerTest, TakenPortIsUnavailable) {
  auto registry = std::make_shared<prometheus::Registry>();
  const std::unique_ptr<MetricsExposer> first = StartExposer(registry);
  ASSERT_NE(first, nullptr);

  const StatusOr<std::unique_ptr<MetricsExposer>> second =
      MetricsExposer::Create(kLoopback, first->port(), registry);

  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find(std::to_string(first->port())),
            std::string::npos)
      << second.status().ToString();
}

TEST(MetricsExposerTest, StopsServingWhenDestroyed) {
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  const int port = exposer->port();
  ASSERT_TRUE(HttpGet(kLoopback, port, "/metrics", kDeadline).ok());

  exposer.reset();
  const StatusOr<std::string> text =
      HttpGet(kLoopback, port, "/metrics", kDeadline);

  EXPECT_EQ(text.status().code(), Status::Code::kUnavailable);
}

// The header says the exposer keeps `registry` shared, but
// prometheus::Exposer::RegisterCollectable holds only a weak_ptr, so the
// registry dies with the caller's last reference.
TEST(MetricsExposerTest, KeepsTheRegistryAliveAfterCallerDropsIt) {
  auto registry = std::make_shared<prometheus::Registry>();
  AddBuildInfo(*registry);
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);

  registry.reset();
  const StatusOr<std::string> text =
      HttpGet(kLoopback, exposer->port(), "/metrics", kDeadline);

  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(FindSample(*text, BuildInfoSeries()), 1.0) << *text;
}

TEST(ScrapeTest, HttpGetOfUnknownPathIsAnError) {
  auto registry = std::make_shared<prometheus::Registry>();
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);

  const StatusOr<std::string> text =
      HttpGet(kLoopback, exposer->port(), "/no-such-page", kDeadline);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(text.status().message().find("404"), std::string::npos)
      << text.status().ToString();
}

TEST(ScrapeTest, HttpGetToClosedPortIsUnavailableWithinDeadline) {
  const LoopbackPort closed(LoopbackPort::Mode::kRefuse);
  ASSERT_TRUE(closed.ok());
  const milliseconds timeout(2000);
  const auto start = Clock::now();

  const StatusOr<std::string> text =
      HttpGet(kLoopback, closed.port(), "/metrics", timeout);

  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(text.status().message().find(std::to_string(closed.port())),
            std::string::npos)
      << text.status().ToString();
  EXPECT_LT(elapsed, timeout);
}

TEST(ScrapeTest, HttpGetToSilentServerGivesUpAtDeadline) {
  const LoopbackPort silent(LoopbackPort::Mode::kListenSilently);
  ASSERT_TRUE(silent.ok());
  const milliseconds timeout(200);
  const auto start = Clock::now();

  const StatusOr<std::string> text =
      HttpGet(kLoopback, silent.port(), "/metrics", timeout);

  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kUnavailable);
  EXPECT_GE(elapsed, timeout - milliseconds(5));
  EXPECT_LT(elapsed, timeout + kDeadline);
}

TEST(ScrapeTest, HttpGetRejectsHostThatIsNotIpv4) {
  const StatusOr<std::string> text =
      HttpGet("localhost", 9, "/metrics", kDeadline);

  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(text.status().message().find("localhost"), std::string::npos);
}

constexpr const char* kExposition =
    "# HELP anchorage_server_pushes_total Pushes by outcome\n"
    "# TYPE anchorage_server_pushes_total counter\n"
    "anchorage_server_pushes_total{outcome=\"applied\"} 12\n"
    "anchorage_server_pushes_total{outcome=\"stale\"} 3\n"
    "anchorage_server_round_total_extra 99\n"
    "anchorage_server_round_total 7\n"
    "anchorage_server_loss -0.25\n"
    "anchorage_server_big 1.5e+06\n"
    "anchorage_server_timestamped 4 1700000000000\n"
    "anchorage_server_inf +Inf\n"
    "anchorage_server_nan NaN\n"
    "anchorage_server_last 8";

TEST(ScrapeTest, FindSampleReadsSeriesWithAndWithoutLabels) {
  EXPECT_EQ(FindSample(kExposition,
                       "anchorage_server_pushes_total{outcome=\"applied\"}"),
            12.0);
  EXPECT_EQ(FindSample(kExposition,
                       "anchorage_server_pushes_total{outcome=\"stale\"}"),
            3.0);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_loss"), -0.25);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_big"), 1.5e6);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_timestamped"), 4.0);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_last"), 8.0);
}

TEST(ScrapeTest, FindSampleReadsSpecialValues) {
  const std::optional<double> inf =
      FindSample(kExposition, "anchorage_server_inf");
  const std::optional<double> nan =
      FindSample(kExposition, "anchorage_server_nan");

  ASSERT_TRUE(inf.has_value());
  EXPECT_TRUE(std::isinf(*inf) && *inf > 0);
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(*nan));
}

TEST(ScrapeTest, FindSampleDoesNotMatchAPrefixOfALongerName) {
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_round_total"), 7.0);
  EXPECT_EQ(FindSample("anchorage_server_round_total_extra 99\n",
                       "anchorage_server_round_total"),
            std::nullopt);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_round"), std::nullopt);
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_pushes"), std::nullopt);
}

TEST(ScrapeTest, FindSampleNeedsTheExactLabelSet) {
  EXPECT_EQ(FindSample(kExposition, "anchorage_server_pushes_total"),
            std::nullopt);
  EXPECT_EQ(FindSample(kExposition,
                       "anchorage_server_pushes_total{outcome=\"appl\"}"),
            std::nullopt);
}

TEST(ScrapeTest, FindSampleReturnsNulloptForAbsentSeries) {
  EXPECT_EQ(FindSample(kExposition, "anchorage_worker_steps_total"),
            std::nullopt);
  EXPECT_EQ(FindSample("", "anchorage_server_loss"), std::nullopt);
  EXPECT_EQ(FindSample(kExposition, "# HELP"), std::nullopt);
}

TEST(ScrapeTest, FindSampleSkipsLinesWithoutANumber) {
  EXPECT_EQ(FindSample("anchorage_x abc\n", "anchorage_x"), std::nullopt);
  EXPECT_EQ(FindSample("anchorage_x\n", "anchorage_x"), std::nullopt);
}

TEST(MetricsExposerTest, HealthAndReadinessEndpoints) {
  auto registry = std::make_shared<prometheus::Registry>();
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  const auto timeout = std::chrono::milliseconds(2000);
  EXPECT_TRUE(HttpGet("127.0.0.1", exposer->port(), "/healthz", timeout).ok());
  const StatusOr<std::string> not_ready =
      HttpGet("127.0.0.1", exposer->port(), "/readyz", timeout);
  ASSERT_FALSE(not_ready.ok());
  EXPECT_NE(not_ready.status().message().find("503"), std::string::npos);
  exposer->set_ready(true);
  const StatusOr<std::string> ready =
      HttpGet("127.0.0.1", exposer->port(), "/readyz", timeout);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  EXPECT_EQ(*ready, "ready\n");
  EXPECT_FALSE(HttpGet("127.0.0.1", exposer->port(), "/nope", timeout).ok());
}

// A client connected to the exposer's port (blocking, 2 s receive
// timeout); -1 on failure.
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` on `fd` and reads until the server closes.
std::string Exchange(int fd, const std::string& request) {
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(n));
  }
  return response;
}

TEST(MetricsExposerTest, IdleConnectionsDoNotHoldUpAProbe) {
  auto registry = std::make_shared<prometheus::Registry>();
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  std::vector<int> idle;
  for (int n = 0; n < 100; ++n) {
    const int fd = Connect(exposer->port());
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  const StatusOr<std::string> health =
      HttpGet(kLoopback, exposer->port(), "/healthz", kDeadline);
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(*health, "ok\n");
  // The probe was answered while every idle client was still being waited
  // for: none of them has been closed yet (a server taking one connection
  // at a time would have answered only after dropping them all).
  for (const int fd : idle) {
    char byte = 0;
    EXPECT_EQ(::recv(fd, &byte, 1, MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EAGAIN);
  }
  // A slow client is dropped at its deadline (2 s after it connected).
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(idle.front(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
               sizeof(timeout));
  char byte = 0;
  EXPECT_EQ(::recv(idle.front(), &byte, 1, 0), 0);
  for (const int fd : idle) {
    ::close(fd);
  }
}

TEST(MetricsExposerTest, HeadAnswersTheHeadersWithoutTheBody) {
  auto registry = std::make_shared<prometheus::Registry>();
  const std::unique_ptr<MetricsExposer> exposer = StartExposer(registry);
  ASSERT_NE(exposer, nullptr);
  const int fd = Connect(exposer->port());
  ASSERT_GE(fd, 0);
  const std::string response =
      Exchange(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << response;
  EXPECT_NE(response.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(response.substr(response.size() - 4), "\r\n\r\n");
}

}  // namespace
}  // namespace anchorage::metrics
