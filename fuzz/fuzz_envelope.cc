// The server's receive path for one message: frames verified and parsed
// into a Message, then read as the message kind it says it is.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/transport/protocol.h"
#include "common/transport/wire.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace anchorage;
  std::string reason;
  StatusOr<transport::Message> message =
      transport::ParseMessage(fuzz::SplitFrames(data, size), &reason);
  if (!message.ok()) return 0;
  switch (message->kind()) {
    case proto::Body::Join:
      (void)transport::ReadJoin(*message);
      break;
    case proto::Body::Push:
      (void)transport::ReadPush(*message);
      break;
    case proto::Body::Values:
      (void)transport::ReadValues(*message);
      break;
    case proto::Body::Leave:
      (void)transport::ReadLeaveReason(*message);
      break;
    case proto::Body::PushAsk:
      (void)transport::ReadPushAskRound(*message);
      break;
    case proto::Body::Error:
      (void)transport::ReadError(*message);
      break;
    default:
      break;
  }
  return 0;
}
