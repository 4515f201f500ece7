#include "worker/server_links.h"

#include <utility>

#include "common/transport/socket.h"

namespace anchorage::worker {

ServerLinks::ServerLinks(zmq::context_t& context,
                         const CommunicatorOptions& options, int64_t model_dim,
                         std::vector<ShardLink> links, WorkerMetrics* metrics)
    : slices_(algo::Slices(model_dim, static_cast<int>(links.size()))) {
  for (size_t s = 0; s < links.size(); ++s) {
    CommunicatorOptions shard = options;
    shard.server = links[s].server;
    shard.curve = links[s].curve;
    shard.model_dim = slices_[s].size();
    shard.server_shard = static_cast<uint32_t>(s);
    shard.server_shards = static_cast<uint32_t>(links.size());
    communicators_.push_back(std::make_unique<Communicator>(
        context, shard, std::move(links[s].encoder), metrics));
  }
  if (communicators_.size() > 1) assembler_.emplace(slices_);
}

void ServerLinks::SendPush(std::unique_ptr<OutgoingPush> push) {
  if (!assembler_) {
    communicators_.front()->SendPush(std::move(push));
    return;
  }
  for (size_t s = 0; s < communicators_.size(); ++s) {
    if (assembler_->done(s)) continue;
    auto part = std::make_unique<OutgoingPush>();
    part->base = push->base->parts.at(s);
    part->base_version = part->base->header.version;
    part->round = push->round;
    part->report = push->report;
    part->contribution.assign(push->contribution.begin() + slices_[s].begin,
                              push->contribution.begin() + slices_[s].end);
    communicators_[s]->SendPush(std::move(part));
  }
}

std::unique_ptr<Delivery> ServerLinks::Receive(
    std::chrono::milliseconds timeout) {
  if (!assembler_) return communicators_.front()->Receive(timeout);
  std::vector<zmq::socket_t*> sockets;
  sockets.reserve(communicators_.size());
  for (const auto& communicator : communicators_) {
    sockets.push_back(&communicator->deliveries());
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (size_t s = 0; s < communicators_.size(); ++s) {
      while (std::unique_ptr<Delivery> delivery =
                 communicators_[s]->Receive(std::chrono::milliseconds(0))) {
        if (std::unique_ptr<Delivery> whole =
                assembler_->Offer(s, std::move(delivery))) {
          return whole;
        }
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return nullptr;
    if (!transport::Poll(sockets, left).ok()) return nullptr;
  }
}

void ServerLinks::LeaveOnStop() {
  for (const auto& communicator : communicators_) {
    communicator->LeaveOnStop();
  }
}

}  // namespace anchorage::worker
