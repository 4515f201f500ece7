#include "common/transport/socket.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/base/status.h"

namespace anchorage::transport {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Frames = std::vector<zmq::message_t>;

constexpr milliseconds kDeadline{5000};

Frames MakeFrames(const std::vector<std::string>& parts) {
  Frames frames;
  for (const std::string& part : parts) {
    frames.emplace_back(part.data(), part.size());
  }
  return frames;
}

std::vector<std::string> Strings(const Frames& frames) {
  std::vector<std::string> parts;
  for (const zmq::message_t& frame : frames) {
    parts.push_back(frame.to_string());
  }
  return parts;
}

// Waits until `socket` is readable or `timeout` passes, then receives one
// message. Returns nullopt when nothing arrived in time.
StatusOr<std::optional<Frames>> ReceiveWithin(zmq::socket_t& socket,
                                              size_t max_frames,
                                              milliseconds timeout) {
  const StatusOr<std::vector<bool>> readable = Poll({&socket}, timeout);
  if (!readable.ok()) return readable.status();
  if (!readable->at(0)) return std::optional<Frames>();
  return ReceiveFrames(socket, max_frames);
}

// Each test gets its own context; sockets linger 0 ms so closing a socket
// with undelivered messages never delays the test.
class SocketTest : public ::testing::Test {
 protected:
  SocketTest() { options_.linger = milliseconds(0); }

  zmq::socket_t Router() {
    StatusOr<zmq::socket_t> socket =
        BindRouter(context_, "tcp://127.0.0.1:*", options_);
    EXPECT_TRUE(socket.ok()) << socket.status().ToString();
    if (!socket.ok()) return {};
    return std::move(socket).value();
  }

  zmq::socket_t Dealer(const std::string& endpoint,
                       const std::string& identity) {
    StatusOr<zmq::socket_t> socket =
        ConnectDealer(context_, endpoint, identity, options_);
    EXPECT_TRUE(socket.ok()) << socket.status().ToString();
    if (!socket.ok()) return {};
    return std::move(socket).value();
  }

  zmq::context_t context_;
  SocketOptions options_;
};

TEST_F(SocketTest, RouterBoundToWildcardPortReportsRealPort) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);

  const std::string endpoint = LastEndpoint(router);

  const std::string prefix = "tcp://127.0.0.1:";
  ASSERT_EQ(endpoint.rfind(prefix, 0), 0U) << endpoint;
  const std::string port = endpoint.substr(prefix.size());
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(port.find_first_not_of("0123456789"), std::string::npos) << port;
  EXPECT_GT(std::stoi(port), 0);
  EXPECT_LT(std::stoi(port), 65536);
}

TEST_F(SocketTest, RouterAndDealerExchangeMultipartBothWays) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "worker-7");
  ASSERT_TRUE(dealer);
  const std::string binary("a\0b\xff", 4);

  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"hello", "", binary})).ok());
  const StatusOr<std::optional<Frames>> at_router =
      ReceiveWithin(router, 8, kDeadline);

  ASSERT_TRUE(at_router.ok()) << at_router.status().ToString();
  ASSERT_TRUE(at_router->has_value()) << "nothing arrived within the deadline";
  EXPECT_EQ(Strings(**at_router),
            (std::vector<std::string>{"worker-7", "hello", "", binary}));

  const Status reply =
      SendFrames(router, MakeFrames({"worker-7", "anchor", "payload"}));
  ASSERT_TRUE(reply.ok()) << reply.ToString();
  const StatusOr<std::optional<Frames>> at_dealer =
      ReceiveWithin(dealer, 8, kDeadline);

  ASSERT_TRUE(at_dealer.ok()) << at_dealer.status().ToString();
  ASSERT_TRUE(at_dealer->has_value()) << "nothing arrived within the deadline";
  EXPECT_EQ(Strings(**at_dealer),
            (std::vector<std::string>{"anchor", "payload"}));
}

TEST_F(SocketTest, ReceiveFramesReturnsNulloptWhenNothingWaits) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "idle");
  ASSERT_TRUE(dealer);

  const StatusOr<std::optional<Frames>> at_router = ReceiveFrames(router, 8);
  const StatusOr<std::optional<Frames>> at_dealer = ReceiveFrames(dealer, 8);

  ASSERT_TRUE(at_router.ok()) << at_router.status().ToString();
  EXPECT_FALSE(at_router->has_value());
  ASSERT_TRUE(at_dealer.ok()) << at_dealer.status().ToString();
  EXPECT_FALSE(at_dealer->has_value());
}

TEST_F(SocketTest, ReceiveFramesReturnsNulloptOnceQueueIsDrained) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "w");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"only"})).ok());
  const StatusOr<std::optional<Frames>> first =
      ReceiveWithin(router, 8, kDeadline);
  ASSERT_TRUE(first.ok() && first->has_value());

  const StatusOr<std::optional<Frames>> second = ReceiveFrames(router, 8);

  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->has_value());
}

TEST_F(SocketTest, TooManyFramesAreDrainedAndNextMessageSurvives) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "w1");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(
      SendFrames(dealer, MakeFrames({"1", "2", "3", "4", "5", "6"})).ok());
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"next", "message"})).ok());

  // The router adds the routing id: 7 frames against a limit of 4.
  const StatusOr<std::optional<Frames>> too_many =
      ReceiveWithin(router, 4, kDeadline);
  const StatusOr<std::optional<Frames>> next =
      ReceiveWithin(router, 4, kDeadline);

  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find('7'), std::string::npos)
      << too_many.status().ToString();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->has_value()) << "the next message did not arrive";
  EXPECT_EQ(Strings(**next),
            (std::vector<std::string>{"w1", "next", "message"}));
}

TEST_F(SocketTest, MessageWithExactlyMaxFramesIsAccepted) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "w2");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"a", "b", "c"})).ok());

  const StatusOr<std::optional<Frames>> received =
      ReceiveWithin(router, 4, kDeadline);

  ASSERT_TRUE(received.ok()) << received.status().ToString();
  ASSERT_TRUE(received->has_value());
  EXPECT_EQ(Strings(**received),
            (std::vector<std::string>{"w2", "a", "b", "c"}));
}

TEST_F(SocketTest, SendToUnknownRoutingIdIsNotFound) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);

  const Status status =
      SendFrames(router, MakeFrames({"nobody-here", "payload"}));

  EXPECT_EQ(status.code(), Status::Code::kNotFound) << status.ToString();
}

TEST_F(SocketTest, RouterStaysUsableAfterSendToUnknownPeer) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "known");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"join"})).ok());
  const StatusOr<std::optional<Frames>> join =
      ReceiveWithin(router, 4, kDeadline);
  ASSERT_TRUE(join.ok() && join->has_value());

  const Status unknown = SendFrames(router, MakeFrames({"unknown", "x"}));
  const Status known = SendFrames(router, MakeFrames({"known", "welcome"}));
  const StatusOr<std::optional<Frames>> reply =
      ReceiveWithin(dealer, 4, kDeadline);

  EXPECT_EQ(unknown.code(), Status::Code::kNotFound);
  ASSERT_TRUE(known.ok()) << known.ToString();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->has_value());
  EXPECT_EQ(Strings(**reply), std::vector<std::string>{"welcome"});
}

TEST_F(SocketTest, BindRouterOnInvalidEndpointIsUnavailable) {
  for (const std::string endpoint :
       {"not-an-endpoint", "tcp://", "bogus://127.0.0.1:1",
        "tcp://256.1.1.1:5555"}) {
    const StatusOr<zmq::socket_t> socket =
        BindRouter(context_, endpoint, options_);

    ASSERT_FALSE(socket.ok()) << endpoint;
    EXPECT_EQ(socket.status().code(), Status::Code::kUnavailable);
    EXPECT_NE(socket.status().message().find(endpoint), std::string::npos)
        << socket.status().ToString();
  }
}

TEST_F(SocketTest, BindRouterOnTakenPortIsUnavailable) {
  zmq::socket_t first = Router();
  ASSERT_TRUE(first);

  const StatusOr<zmq::socket_t> second =
      BindRouter(context_, LastEndpoint(first), options_);

  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
}

// A restarted server's port may be held a moment longer: with bind_retry
// the bind waits for it to come free instead of failing.
TEST_F(SocketTest, BindRouterRetriesAPortInUseUntilItIsFree) {
  zmq::socket_t first = Router();
  ASSERT_TRUE(first);
  const std::string endpoint = LastEndpoint(first);
  std::thread closer([socket = std::move(first)]() mutable {
    std::this_thread::sleep_for(milliseconds(300));
    socket.close();
  });
  SocketOptions options = options_;
  options.bind_retry = milliseconds(30000);
  StatusOr<zmq::socket_t> second = BindRouter(context_, endpoint, options);
  closer.join();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(LastEndpoint(*second), endpoint);
}

TEST_F(SocketTest, ConnectDealerToInvalidEndpointIsUnavailable) {
  const StatusOr<zmq::socket_t> socket =
      ConnectDealer(context_, "bogus://x", "w", options_);

  ASSERT_FALSE(socket.ok());
  EXPECT_EQ(socket.status().code(), Status::Code::kUnavailable);
}

TEST_F(SocketTest, FrameOverMaxMessageBytesIsNotDelivered) {
  options_.max_message_bytes = 1024;
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "big");
  ASSERT_TRUE(dealer);
  // A frame at the limit gets through, so the connection itself works.
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({std::string(1024, 'a')})).ok());
  const StatusOr<std::optional<Frames>> small =
      ReceiveWithin(router, 4, kDeadline);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  ASSERT_TRUE(small->has_value()) << "a frame at the limit was not delivered";
  ASSERT_EQ(Strings(**small),
            (std::vector<std::string>{"big", std::string(1024, 'a')}));

  ASSERT_TRUE(SendFrames(dealer, MakeFrames({std::string(1025, 'b')})).ok());
  const StatusOr<std::vector<bool>> readable =
      Poll({&router}, milliseconds(500));

  ASSERT_TRUE(readable.ok()) << readable.status().ToString();
  EXPECT_FALSE(readable->at(0)) << "an oversized frame was delivered";
  const StatusOr<std::optional<Frames>> nothing = ReceiveFrames(router, 4);
  ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
  EXPECT_FALSE(nothing->has_value());
}

TEST_F(SocketTest, SendFramesTimesOutWhenPeerDoesNotRead) {
  options_.send_hwm = 1;
  options_.receive_hwm = 1;
  options_.send_timeout = milliseconds(50);
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  zmq::socket_t dealer = Dealer(LastEndpoint(router), "slow");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"join"})).ok());
  const StatusOr<std::optional<Frames>> join =
      ReceiveWithin(router, 4, kDeadline);
  ASSERT_TRUE(join.ok() && join->has_value());

  // The dealer never reads: socket buffers and both high-water marks fill
  // up, and a send then fails instead of blocking forever.
  const std::string big(1 << 20, 'x');
  Status status;
  int sent = 0;
  const auto deadline = Clock::now() + kDeadline;
  while (status.ok() && Clock::now() < deadline) {
    status = SendFrames(router, MakeFrames({"slow", big}));
    if (status.ok()) ++sent;
  }

  EXPECT_EQ(status.code(), Status::Code::kUnavailable)
      << "sent " << sent << " MiB without blocking";
}

TEST_F(SocketTest, PollReportsOnlyTheReadableSocket) {
  zmq::socket_t quiet = Router();
  zmq::socket_t busy = Router();
  ASSERT_TRUE(quiet);
  ASSERT_TRUE(busy);
  zmq::socket_t dealer = Dealer(LastEndpoint(busy), "w");
  ASSERT_TRUE(dealer);
  ASSERT_TRUE(SendFrames(dealer, MakeFrames({"ping"})).ok());

  const StatusOr<std::vector<bool>> readable = Poll({&quiet, &busy}, kDeadline);

  ASSERT_TRUE(readable.ok()) << readable.status().ToString();
  EXPECT_EQ(*readable, (std::vector<bool>{false, true}));
}

TEST_F(SocketTest, PollReturnsAfterTimeoutWhenNothingArrives) {
  zmq::socket_t router = Router();
  ASSERT_TRUE(router);
  const milliseconds timeout(50);
  const auto start = Clock::now();

  const StatusOr<std::vector<bool>> readable = Poll({&router}, timeout);

  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(readable.ok()) << readable.status().ToString();
  EXPECT_EQ(*readable, std::vector<bool>{false});
  EXPECT_GE(elapsed, timeout - milliseconds(5));
  EXPECT_LT(elapsed, kDeadline);
}

}  // namespace
}  // namespace anchorage::transport
