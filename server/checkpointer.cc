#include "server/checkpointer.h"

#include <chrono>
#include <utility>

namespace anchorage::server {

Checkpointer::~Checkpointer() {
  Wait();
}

bool Checkpointer::Start(io::Checkpoint checkpoint) {
  if (running_.valid()) return false;
  running_ = std::async(
      std::launch::async, [dir = dir_, checkpoint = std::move(checkpoint)] {
        const auto start = std::chrono::steady_clock::now();
        CheckpointWrite write{.path = io::WriteCheckpoint(dir, checkpoint),
                              .version = checkpoint.version,
                              .bytes = checkpoint.state.size()};
        write.seconds = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        return write;
      });
  return true;
}

std::optional<CheckpointWrite> Checkpointer::Poll() {
  if (!running_.valid() ||
      running_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return std::nullopt;
  }
  return running_.get();
}

std::optional<CheckpointWrite> Checkpointer::Wait() {
  if (!running_.valid()) return std::nullopt;
  return running_.get();
}

}  // namespace anchorage::server
